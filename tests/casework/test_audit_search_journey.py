"""The auditor searches by case number, picks 対象種別 from a list, hides their own rows, reads Japanese labels
(issue 16, the auditor's part of the Japanese conventions)."""

import pytest
from django.urls import reverse

from casework.audit import log_access
from casework.audit.labels import object_type_label
from casework.models import AccessLog

pytestmark = pytest.mark.django_db


def _case_view(user, case):
    return log_access(
        actor=user,
        action=AccessLog.Action.VIEW,
        object_type="case",
        object_id=case.pk,
        person_ids=[case.subject_rows.first().person_id],
        basis=AccessLog.Basis.OWN_ORGANIZATION,
    )


def _shown(response):
    return {row.id for row in response.context["page"].rows}


def test_a_case_number_typed_any_way_finds_the_case_pages_rows_and_its_persons(personas, case_a, login):
    row = _case_view(personas.caseworker_a, case_a)
    era, seq = case_a.number.split("-")
    client = login(personas.auditor)
    response = client.get(reverse("audit:log"), {"case_number": f"{era.lower()}－{int(seq)}"})
    assert response.status_code == 200
    assert row.id in _shown(response)
    html = response.content.decode()
    person = case_a.subject_rows.first().person_id
    assert f"?person={person}" in html and case_a.number in html


def test_object_type_is_a_japanese_choice(personas, login):
    client = login(personas.auditor)
    page = client.get(reverse("audit:log")).content.decode()
    assert '<select name="object_type"' in page and ">ケース</option>" in page
    refused = client.get(reverse("audit:log"), {"object_type": "なんでも"})
    assert refused.status_code == 400 and "一覧から選んでください" in refused.content.decode()


def test_the_auditor_can_hide_their_own_rows(personas, case_a, login):
    _case_view(personas.caseworker_a, case_a)
    client = login(personas.auditor)
    client.get(reverse("audit:log"))  # the auditor's own screen row
    response = client.get(reverse("audit:log"), {"hide_own": "on", "action": "view"})
    assert response.status_code == 200
    assert all(row.actor_id != personas.auditor.pk for row in response.context["page"].rows)
    everything = client.get(reverse("audit:log"), {"action": "list"})
    assert any(row.actor_id == personas.auditor.pk for row in everything.context["page"].rows)


def test_rows_show_japanese_object_labels_not_codes(personas, case_a, login):
    _case_view(personas.caseworker_a, case_a)
    html = login(personas.auditor).get(reverse("audit:log"), {"object_type": "case"}).content.decode()
    assert "ケース<br>" in html and f"ID {case_a.pk}" in html
    assert f"case #{case_a.pk}" not in html
    assert object_type_label("agendaitem") == "会議の議題"
