"""The consent ledger answers who may receive whose data, for what, on which day, and why."""

from datetime import date

import pytest
from django.urls import reverse

from casework.disclosure import consent_check
from casework.models import AccessLog, Consent
from casework.services.cases import case_team_add, case_team_remove
from casework.services.consent import consent_record, consent_withdraw

SHARE = "share_with_agencies"
MEETING = "layered_meeting"


def _consent(personas, case, **kwargs):
    values = {
        "person": case.subjects.first(),
        "case": case,
        "given_on": date(2025, 4, 1),
        "method": Consent.Method.WRITTEN,
        "explained_by": personas.caseworker_a,
        "scope_kind": Consent.ScopeKind.NAMED,
        "organizations": [personas.window_b],
        "purposes": [SHARE],
        "by": personas.caseworker_a,
    } | kwargs
    return consent_record(**values)


def _check(personas, the_case, org, on, purpose=SHARE, **kwargs):
    return consent_check(person=the_case.subjects.first(), organization=org, purpose=purpose, on=on, **kwargs)


@pytest.mark.django_db
def test_without_any_consent_the_answer_is_no(personas, case_a):
    answer = _check(personas, case_a, personas.window_b, date(2025, 5, 1))
    assert not answer.allowed and answer.consent_id is None and "記録がありません" in answer.reason


@pytest.mark.django_db
def test_a_named_consent_covers_named_organizations_for_its_purposes_from_its_date(personas, case_a):
    consent = _consent(personas, case_a, valid_until=date(2026, 3, 31))
    yes = _check(personas, case_a, personas.window_b, date(2025, 5, 1))
    assert yes.allowed and yes.consent_id == consent.pk and yes.basis == AccessLog.Basis.CONSENT
    assert "本人同意" in yes.reason
    assert not _check(personas, case_a, personas.window_b, date(2025, 3, 31)).allowed  # before it was given
    assert not _check(personas, case_a, personas.coordinator_org, date(2025, 5, 1)).allowed  # not named
    assert not _check(personas, case_a, personas.window_b, date(2025, 5, 1), purpose=MEETING).allowed
    expired = _check(personas, case_a, personas.window_b, date(2026, 4, 1))
    assert not expired.allowed and "有効期限" in expired.reason


@pytest.mark.django_db
def test_withdrawal_stops_sharing_from_its_date(personas, case_a):
    consent = _consent(personas, case_a)
    consent_withdraw(consent=consent, withdrawn_on=date(2025, 6, 1), by=personas.caseworker_a, note="本人の申し出")
    assert _check(personas, case_a, personas.window_b, date(2025, 5, 31)).allowed
    after = _check(personas, case_a, personas.window_b, date(2025, 6, 1))
    assert not after.allowed and after.consent_id == consent.pk and "撤回" in after.reason
    consent.refresh_from_db()
    assert consent.withdrawal_recorded_by == personas.caseworker_a


@pytest.mark.django_db
def test_a_refusal_is_a_no_and_overrides_an_older_consent(personas, case_a):
    _consent(personas, case_a)
    refusal = _consent(personas, case_a, given_on=date(2025, 7, 1), status=Consent.Status.REFUSED)
    assert _check(personas, case_a, personas.window_b, date(2025, 6, 30)).allowed
    answer = _check(personas, case_a, personas.window_b, date(2025, 7, 2))
    assert not answer.allowed and answer.consent_id == refusal.pk and "拒否" in answer.reason


@pytest.mark.django_db
def test_a_case_team_consent_follows_the_team_on_each_date(personas, case_a):
    from django.utils import timezone

    from casework.models import CaseTeamMembership

    _consent(personas, case_a, scope_kind=Consent.ScopeKind.CASE_TEAM, organizations=[], given_on=date(2025, 1, 1))
    # The lead organization is on the team from the case's opening.
    CaseTeamMembership.objects.filter(case=case_a).update(
        added_at=timezone.make_aware(timezone.datetime(2025, 1, 1, 9, 0))
    )
    assert _check(personas, case_a, personas.window_a, date(2025, 5, 1), case=case_a).allowed
    assert not _check(personas, case_a, personas.window_b, date(2025, 5, 1), case=case_a).allowed
    case_team_add(case=case_a, organization=personas.window_b, by=personas.caseworker_a)
    today = timezone.localdate()
    assert _check(personas, case_a, personas.window_b, today, case=case_a).allowed
    assert not _check(personas, case_a, personas.window_b, date(2025, 5, 1), case=case_a).allowed  # not yet on team
    case_team_remove(case=case_a, organization=personas.window_b, by=personas.caseworker_a)
    assert not _check(personas, case_a, personas.window_b, today, case=case_a).allowed


@pytest.mark.django_db
def test_recording_and_withdrawing_through_the_screens(personas, login, case_a):
    client = login(personas.caseworker_a)
    person = case_a.subjects.first()
    response = client.post(
        reverse("casework:consent_create", args=[case_a.pk]),
        {
            "person": person.pk,
            "status": "given",
            "given_by": "self",
            "given_on": "令和7年4月1日",
            "method": "written",
            "document_version": "第2版",
            "scope_kind": "case_team",
            "purposes": [SHARE, MEETING],
            "valid_until": "R8.3.31",
        },
    )
    assert response.status_code == 302
    consent = Consent.objects.get(person=person)
    assert (consent.given_on, consent.valid_until) == (date(2025, 4, 1), date(2026, 3, 31))
    row = AccessLog.objects.filter(object_type="consent", action=AccessLog.Action.CREATE).latest("id")
    assert row.person_ids == [person.pk] and row.actor == personas.caseworker_a
    response = client.post(
        reverse("casework:consent_withdraw", args=[case_a.pk, consent.pk]), {"withdrawn_on": "2025-08-01", "note": ""}
    )
    assert response.status_code == 302
    consent.refresh_from_db()
    assert consent.status == Consent.Status.WITHDRAWN and consent.withdrawn_on == date(2025, 8, 1)
    detail = client.get(reverse("casework:case_detail", args=[case_a.pk])).content.decode()
    assert "撤回済み" in detail


@pytest.mark.django_db
def test_a_named_consent_without_organizations_is_refused_with_a_message(personas, login, case_a):
    client = login(personas.caseworker_a)
    response = client.post(
        reverse("casework:consent_create", args=[case_a.pk]),
        {
            "person": case_a.subjects.first().pk,
            "status": "given",
            "given_by": "self",
            "given_on": "令和7年4月1日",
            "method": "oral",
            "scope_kind": "named",
            "purposes": [SHARE],
        },
    )
    assert response.status_code == 200
    assert "提供先の機関を一つ以上選んでください" in response.content.decode()
    assert not Consent.objects.exists()
