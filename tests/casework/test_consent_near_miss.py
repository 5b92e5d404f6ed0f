"""A consent that exists but misses the receiver, the lead or the purpose says so (issue 16, item 4)."""

import datetime
import re

import pytest
from django.urls import reverse

from casework.disclosure import consent_check
from casework.models import Consent
from tests.factories import make_consent

pytestmark = pytest.mark.django_db


def _subject(case):
    return case.subject_rows.first().person


def test_a_scope_missing_the_receiver_names_it(personas, case_a):
    person = _subject(case_a)
    make_consent(
        person=person, organizations=[personas.window_a], purposes=["share_with_agencies"], by=personas.caseworker_a
    )
    answer = consent_check(
        person=person,
        organization=personas.window_b,
        purpose="share_with_agencies",
        on=datetime.date.today(),
        case=case_a,
    )
    assert not answer.allowed
    assert "同意の記録がありません" not in answer.reason
    assert "範囲" in answer.reason and personas.window_b.name in answer.reason


def test_a_scope_missing_the_lead_names_the_lead(personas, case_a):
    person = _subject(case_a)
    make_consent(
        person=person, organizations=[personas.window_b], purposes=["layered_meeting"], by=personas.caseworker_a
    )
    answer = consent_check(
        person=person, organization=personas.window_a, purpose="layered_meeting", on=datetime.date.today(), case=case_a
    )
    assert not answer.allowed and personas.window_a.name in answer.reason and "範囲" in answer.reason


def test_a_consent_for_another_purpose_names_the_missing_purpose(personas, case_a):
    person = _subject(case_a)
    make_consent(
        person=person, organizations=[personas.window_b], purposes=["place_referral"], by=personas.caseworker_a
    )
    answer = consent_check(
        person=person,
        organization=personas.window_b,
        purpose="share_with_agencies",
        on=datetime.date.today(),
        case=case_a,
    )
    assert not answer.allowed and "目的" in answer.reason and "同意の記録がありません" not in answer.reason


def test_no_consent_at_all_still_says_there_is_none(personas, case_a):
    answer = consent_check(
        person=_subject(case_a),
        organization=personas.window_b,
        purpose="share_with_agencies",
        on=datetime.date.today(),
        case=case_a,
    )
    assert "同意の記録がありません" in answer.reason


def test_the_consent_form_ticks_the_lead_organization(personas, case_a, login):
    page = login(personas.caseworker_a).get(reverse("casework:consent_create", args=[case_a.pk])).content.decode()
    assert re.search(rf'name="organizations" value="{personas.window_a.pk}"[^>]*checked', page)
    assert not re.search(rf'name="organizations" value="{personas.window_b.pk}"[^>]*checked', page)
    assert "主担当機関" in page and "必ず含まれます" in page


def test_leaving_the_lead_out_adds_it_and_says_so_after_recording(personas, case_a, login):
    client = login(personas.caseworker_a)
    person = _subject(case_a)
    response = client.post(
        reverse("casework:consent_create", args=[case_a.pk]),
        {
            "person": person.pk,
            "status": "given",
            "given_by": "self",
            "given_on": "令和8年12月1日",
            "method": "written",
            "scope_kind": "named",
            "organizations": [personas.window_b.pk],
            "purposes": ["share_with_agencies"],
        },
        follow=True,
    )
    consent = Consent.objects.get(person=person)
    assert set(consent.organizations.values_list("pk", flat=True)) == {personas.window_a.pk, personas.window_b.pk}
    assert "主担当機関" in response.content.decode()
