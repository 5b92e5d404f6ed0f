"""One 本人 per household: member 2 of an intake has no preselected 続柄 (issue 16, item 11)."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from casework.models import Case
from casework.services.persons import household_add_member, household_member_update
from tests.factories import PersonFactory


def _intake(**member2):
    data = {
        "household_name": "鈴木さん世帯",
        "domains": ["elderly"],
        "categories": ["care"],
        "main_category": "care",
        "intake_route": "self",
        "summary": "母の介護と息子のひきこもり",
        "opened_on": "令和8年12月1日",
        "p1-family_name": "鈴木",
        "p1-given_name": "花子",
        "p1-family_name_kana": "スズキ",
        "p1-given_name_kana": "ハナコ",
        "p1-birth_date": "昭和19年5月1日",
        "p1-gender": "female",
        "p1-relationship": "self",
        "p1-lives_together": "on",
        "p1-is_subject": "on",
        "p1-link_person": "new",
    }
    return data | {f"p2-{k}": v for k, v in member2.items()}


SON = {
    "family_name": "鈴木",
    "given_name": "一郎",
    "family_name_kana": "スズキ",
    "given_name_kana": "イチロウ",
    "birth_date": "昭和47年6月1日",
    "gender": "male",
    "lives_together": "on",
    "is_subject": "on",
    "link_person": "new",
}


def test_member_two_has_no_preselected_relationship(personas, login):
    page = login(personas.caseworker_a).get(reverse("casework:case_intake")).content.decode()
    p2 = page[page.index('name="p2-relationship"') :]
    p2 = p2[: p2.index("</select>")]
    assert "selected" not in p2.split('value="self"')[1].split(">")[0]
    assert 'value="" selected' in p2


def test_two_self_members_are_refused_in_japanese(personas, login):
    client = login(personas.caseworker_a)
    lead = personas.window_a.pk
    response = client.post(
        reverse("casework:case_intake"), _intake(**SON, relationship="self") | {"lead_organization": lead}
    )
    assert response.status_code == 200
    assert "すでに続柄「本人」の方" in response.content.decode()
    assert not Case.objects.exists()


def test_a_member_two_without_relationship_is_asked_for_one(personas, login):
    client = login(personas.caseworker_a)
    lead = personas.window_a.pk
    response = client.post(reverse("casework:case_intake"), _intake(**SON) | {"lead_organization": lead})
    assert response.status_code == 200
    assert not Case.objects.exists()
    response = client.post(
        reverse("casework:case_intake"), _intake(**SON, relationship="child") | {"lead_organization": lead}
    )
    assert response.status_code == 302


def test_the_service_refuses_a_second_self_and_an_edit_to_self(personas, case_a):
    household = case_a.household
    son = PersonFactory(given_name="一郎", birth_date=datetime.date(1972, 6, 1))
    with pytest.raises(ValidationError, match="本人"):
        household_add_member(household=household, person=son, relationship="self", by=personas.caseworker_a)
    member = household_add_member(household=household, person=son, relationship="child", by=personas.caseworker_a)
    with pytest.raises(ValidationError, match="本人"):
        household_member_update(member=member, relationship="self", by=personas.caseworker_a, case=case_a)
