"""Regressions for issue 15's casework rows: team changes, lead-only changes, consents per case, lapsed bases.

Each test reproduces the attack through the HTTP client (or the service a screen calls) and asserts
it is now refused, changing nothing.
"""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from casework.disclosure import Purpose, case_basis
from casework.models import (
    AccessLog,
    Case,
    CaseGroupObjectPermission,
    CaseState,
    CaseTeamMembership,
    Consent,
    ConsentPurpose,
    Person,
)
from casework.services.cases import case_team_add, case_transition, case_update
from casework.services.consent import consent_record, consent_withdraw
from casework.services.persons import person_update
from casework.services.plans import plan_approve, plan_create, plan_propose
from tests.factories import add_to_team, give_sharing_consent, make_case, make_referral


def _detail(case) -> str:
    return reverse("casework:case_detail", args=[case.pk])


def _team(case) -> set[int]:
    return set(
        CaseTeamMembership.objects.filter(case=case, ended_at__isnull=True).values_list("organization_id", flat=True)
    )


@pytest.fixture
def shared_case(personas):
    """Window A's case with window B on its team on the subject's consent naming it."""
    case = make_case(lead_organization=personas.window_a, by=personas.caseworker_a)
    consents = add_to_team(case, personas.window_b, by=personas.caseworker_a, note="障害福祉")
    case.consents_for_b = consents
    return case


# ---------------------------------------------------------------------------
# Row 3: only the lead changes the team, and adding an organization is a share
# ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_row_3_a_team_member_cannot_add_or_remove_organizations(personas, login, shared_case):
    team_url = reverse("casework:team", args=[shared_case.pk])
    member = login(personas.caseworker_b)
    # The team member may see the list ...
    assert member.get(team_url).status_code == 200
    assert 'value="add"' not in member.get(team_url).content.decode()
    # ... but adding another organization (full access, no basis) is refused, and nothing changes.
    response = member.post(team_url, {"form": "add", "organization": personas.coordinator_org.pk, "note": "x"})
    assert response.status_code == 404
    assert login(personas.coordinator).get(_detail(shared_case)).status_code == 404
    # Removing another member (here the lead's own org, and itself through the lead-only form) is refused.
    response = member.post(team_url, {"form": "remove", "organization": personas.window_a.pk})
    assert response.status_code == 404
    assert _team(shared_case) == {personas.window_a.pk, personas.window_b.pk}
    assert AccessLog.objects.filter(
        actor=personas.caseworker_b, action=AccessLog.Action.DENIED, object_type="case"
    ).exists()
    # The service refuses a non-lead caller too.
    with pytest.raises(ValidationError):
        case_team_add(case=shared_case, organization=personas.coordinator_org, by=personas.caseworker_b)
    assert _team(shared_case) == {personas.window_a.pk, personas.window_b.pk}


@pytest.mark.django_db
def test_row_3_the_lead_adds_an_organization_only_on_a_current_basis(personas, login, case_a):
    team_url = reverse("casework:team", args=[case_a.pk])
    lead = login(personas.caseworker_a)
    # No consent naming the coordinator: refused with a Japanese message, nothing granted.
    response = lead.post(team_url, {"form": "add", "organization": personas.coordinator_org.pk, "note": ""})
    assert response.status_code == 200
    assert "ケースチームに加える根拠がありません" in response.content.decode()
    assert _team(case_a) == {personas.window_a.pk}
    assert login(personas.coordinator).get(_detail(case_a)).status_code == 404
    # Every consent withdrawn: still refused.
    consents = give_sharing_consent(case_a, organization=personas.coordinator_org, by=personas.caseworker_a)
    for consent in consents:
        consent_withdraw(consent=consent, withdrawn_on=timezone.localdate(), by=personas.caseworker_a)
    response = lead.post(team_url, {"form": "add", "organization": personas.coordinator_org.pk, "note": ""})
    assert "ケースチームに加える根拠がありません" in response.content.decode()
    assert login(personas.coordinator).get(_detail(case_a)).status_code == 404
    # With a current consent naming it: added, and the basis is recorded on the team row.
    fresh = give_sharing_consent(case_a, organization=personas.coordinator_org, by=personas.caseworker_a)
    response = lead.post(team_url, {"form": "add", "organization": personas.coordinator_org.pk, "note": "調整"})
    assert response.status_code == 302
    row = CaseTeamMembership.objects.get(case=case_a, organization=personas.coordinator_org, ended_at__isnull=True)
    assert row.basis_kind == AccessLog.Basis.CONSENT and row.basis_ref == str(fresh[0].pk)
    assert login(personas.coordinator).get(_detail(case_a)).status_code == 200
    lead_row = CaseTeamMembership.objects.get(case=case_a, organization=personas.window_a)
    assert lead_row.basis_kind == AccessLog.Basis.OWN_ORGANIZATION


# ---------------------------------------------------------------------------
# Row 6: only the lead changes the state (reopening included), persons, household, case and consents
# ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_row_6_a_team_member_cannot_reopen_the_leads_closed_case(personas, login, shared_case):
    case = shared_case
    for to in ("assessment", "planning", "in_support"):
        case = case_transition(case=case, to_state=to, by=personas.caseworker_a)
    case = case_transition(case=case, to_state="closed", reason="目標を達成", by=personas.caseworker_a)
    member = login(personas.caseworker_b)
    url = reverse("casework:transition", args=[case.pk])
    response = member.post(url, {"to_state": "assessment", "reason": "", "expected_version": case.version})
    assert response.status_code == 404
    assert Case.objects.get(pk=case.pk).state == CaseState.CLOSED
    # The case page offers no move they cannot make.
    page = member.get(_detail(case)).content.decode()
    assert url not in page
    # Called directly, the service refuses too and changes nothing.
    with pytest.raises(ValidationError):
        case_transition(case=case, to_state="assessment", by=personas.caseworker_b)
    assert Case.objects.get(pk=case.pk).state == CaseState.CLOSED
    # The lead reopens.
    response = login(personas.caseworker_a).post(
        url, {"to_state": "assessment", "reason": "再相談", "expected_version": case.version}
    )
    assert response.status_code == 302 and Case.objects.get(pk=case.pk).state == CaseState.ASSESSMENT


@pytest.mark.django_db
def test_row_6_a_team_member_cannot_edit_persons_household_case_or_consents(personas, login, shared_case):
    case = shared_case
    person = case.subjects.first()
    member = login(personas.caseworker_b)
    consent = case.consents_for_b[0]
    lead_only = {
        reverse("casework:person_edit", args=[case.pk, person.pk]): {"family_name": "乗っ取り", "given_name": "x"},
        reverse("casework:household_edit", args=[case.pk]): {"name": "乗っ取り世帯"},
        reverse("casework:member_add", args=[case.pk]): {"p1-family_name": "追加", "p1-relationship": "child"},
        reverse("casework:case_edit", args=[case.pk]): {"summary": "乗っ取り", "expected_version": case.version},
        reverse("casework:consent_create", args=[case.pk]): {"person": person.pk, "status": "given"},
        reverse("casework:consent_withdraw", args=[case.pk, consent.pk]): {"withdrawn_on": "2026-01-01"},
        reverse("casework:case_change_lead", args=[case.pk]): {"organization": personas.window_b.pk, "reason": "x"},
    }
    page = member.get(_detail(case)).content.decode()
    for url, data in lead_only.items():
        assert member.get(url).status_code == 404, url
        assert member.post(url, data).status_code == 404, url
        assert url not in page, url
    person.refresh_from_db()
    assert person.family_name != "乗っ取り"
    assert Consent.objects.get(pk=consent.pk).status == Consent.Status.GIVEN
    assert Case.objects.get(pk=case.pk).summary != "乗っ取り"
    # Their own records stay theirs: a contact record.
    response = member.post(
        reverse("casework:contact_create", args=[case.pk]),
        {"occurred_on": "2026-01-05", "occurred_time": "10:00", "kind": "phone", "summary": "電話で確認"},
    )
    assert response.status_code in {200, 302}
    assert case_basis(personas.caseworker_b, case, Purpose.CHANGE_CASE) is not None
    assert case_basis(personas.caseworker_b, case, Purpose.LEAD_CHANGE) is None
    # Services re-check: a direct call with a team member as `by` is refused.
    with pytest.raises(ValidationError):
        person_update(person=person, by=personas.caseworker_b, case=case, given_name="乗っ取り")
    with pytest.raises(ValidationError):
        consent_withdraw(consent=consent, withdrawn_on=timezone.localdate(), by=personas.caseworker_b, case=case)
    with pytest.raises(ValidationError):
        case_update(case=case, by=personas.caseworker_b, summary="乗っ取り")


@pytest.mark.django_db
def test_row_6_a_team_member_proposes_a_plan_but_only_the_lead_approves(personas, login, shared_case):
    plan = plan_create(case=shared_case, goals="目標", by=personas.caseworker_b)
    plan_propose(plan=plan, by=personas.caseworker_b)
    url = reverse("casework:plan_detail", args=[shared_case.pk, plan.pk])
    member = login(personas.caseworker_b)
    assert 'value="approve"' not in member.get(url).content.decode()
    member.post(url, {"form": "approve", "decided_by_label": "自分で承認"})
    plan.refresh_from_db()
    assert plan.status == "proposed"
    with pytest.raises(ValidationError):
        plan_approve(plan=plan, by=personas.caseworker_b)
    plan_approve(plan=plan, by=personas.caseworker_a, decided_by_label="重層的支援会議")
    plan.refresh_from_db()
    assert plan.status == "approved"


# ---------------------------------------------------------------------------
# Row 10: consents are read and changed only within the case that recorded them
# ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_row_10_a_shared_person_does_not_open_another_cases_consents(personas, login, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    person = make_case(lead_organization=personas.window_a, by=personas.caseworker_a).subjects.first()
    first = Case.objects.filter(subject_rows__person=person).get()
    consent = consent_record(
        person=person,
        case=first,
        given_on=datetime.date(2025, 4, 1),
        method=Consent.Method.WRITTEN,
        explained_by=personas.caseworker_a,
        scope_kind=Consent.ScopeKind.CASE_TEAM,
        purposes=[ConsentPurpose.SHARE_WITH_AGENCIES],
        scanned_form=SimpleUploadedFile("form.pdf", b"%PDF-1.4 first case", content_type="application/pdf"),
        by=personas.caseworker_a,
    )
    # The same person in window B's own case.
    second = make_case(
        lead_organization=personas.window_b, by=personas.caseworker_b, persons=[Person.objects.get(pk=person.pk)]
    )
    client = login(personas.caseworker_b)
    assert client.get(_detail(second)).status_code == 200
    withdraw = reverse("casework:consent_withdraw", args=[second.pk, consent.pk])
    download = reverse("casework:consent_form", args=[second.pk, consent.pk])
    page = client.get(_detail(second)).content.decode()
    assert withdraw not in page and download not in page
    assert client.get(download).status_code == 404
    assert client.get(withdraw).status_code == 404
    assert client.post(withdraw, {"withdrawn_on": timezone.localdate().isoformat(), "note": ""}).status_code == 404
    assert Consent.objects.get(pk=consent.pk).status == Consent.Status.GIVEN
    # The service refuses a withdrawal through the wrong case, too.
    with pytest.raises(ValidationError):
        consent_withdraw(consent=consent, withdrawn_on=timezone.localdate(), by=personas.caseworker_b, case=second)
    # Within its own case the lead still reads and downloads it.
    lead = login(personas.caseworker_a)
    assert reverse("casework:consent_form", args=[first.pk, consent.pk]) in lead.get(_detail(first)).content.decode()
    assert lead.get(reverse("casework:consent_form", args=[first.pk, consent.pk])).status_code == 200


# ---------------------------------------------------------------------------
# Consent withdrawal, expiry and legacy team rows: the grant's basis is checked at every read
# ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_withdrawn_consent_ends_a_team_grant_on_the_next_request(personas, login, shared_case):
    member = login(personas.caseworker_b)
    assert member.get(_detail(shared_case)).status_code == 200
    consent = shared_case.consents_for_b[0]
    response = login(personas.caseworker_a).post(
        reverse("casework:consent_withdraw", args=[shared_case.pk, consent.pk]),
        {"withdrawn_on": timezone.localdate().isoformat(), "note": "本人の申し出"},
    )
    assert response.status_code == 302
    assert member.get(_detail(shared_case)).status_code == 404
    row = CaseTeamMembership.objects.filter(case=shared_case, organization=personas.window_b).latest("id")
    assert row.ended_at is not None and row.ended_by == personas.caseworker_a
    assert f"#{consent.pk}" in row.end_reason
    assert not CaseGroupObjectPermission.objects.filter(
        content_object=shared_case, group_id=personas.window_b.group_id
    ).exists()
    # The lead keeps its own.
    assert login(personas.caseworker_a).get(_detail(shared_case)).status_code == 200
    assert _team(shared_case) == {personas.window_a.pk}


@pytest.mark.django_db
def test_an_expired_consent_ends_the_grant_at_the_next_read_without_any_event(personas, login, shared_case):
    member = login(personas.caseworker_b)
    assert member.get(_detail(shared_case)).status_code == 200
    consent = shared_case.consents_for_b[0]
    Consent.objects.filter(pk=consent.pk).update(valid_until=timezone.localdate() - datetime.timedelta(days=1))
    assert member.get(_detail(shared_case)).status_code == 404
    assert member.get(reverse("casework:contact_create", args=[shared_case.pk])).status_code == 404


@pytest.mark.django_db
def test_a_legacy_team_row_without_a_recorded_basis_holds_only_while_a_basis_exists_now(personas, login, shared_case):
    CaseTeamMembership.objects.filter(case=shared_case, organization=personas.window_b).update(
        basis_kind="", basis_ref=""
    )
    member = login(personas.caseworker_b)
    assert member.get(_detail(shared_case)).status_code == 200
    row = AccessLog.objects.filter(actor=personas.caseworker_b, object_type="case").latest("id")
    assert row.basis == AccessLog.Basis.CONSENT
    # The consent lapses behind the services' back: the fallback finds no basis, the grant is void.
    Consent.objects.filter(pk=shared_case.consents_for_b[0].pk).update(
        status=Consent.Status.WITHDRAWN, withdrawn_on=timezone.localdate()
    )
    assert member.get(_detail(shared_case)).status_code == 404


@pytest.mark.django_db
def test_a_case_team_consent_covers_the_organizations_the_lead_adds(personas, login, case_a):
    give_sharing_consent(case_a, organization=None, by=personas.caseworker_a, scope="case_team")
    case_team_add(case=case_a, organization=personas.window_b, by=personas.caseworker_a)
    assert login(personas.caseworker_b).get(_detail(case_a)).status_code == 200


@pytest.mark.django_db
def test_an_accepted_referral_joins_the_team_on_its_consent_and_leaves_when_it_is_withdrawn(personas, login, case_a):
    from referrals import services as rs

    referral = make_referral(
        case=case_a, by=personas.caseworker_a, sender=personas.window_a, receiver=personas.window_b
    )
    rs.referral_move(move="accept", referral=referral, by=personas.caseworker_b)
    row = CaseTeamMembership.objects.get(case=case_a, organization=personas.window_b, ended_at__isnull=True)
    assert row.basis_kind == AccessLog.Basis.CONSENT
    member = login(personas.caseworker_b)
    assert member.get(_detail(case_a)).status_code == 200
    consent = Consent.objects.get(pk=int(row.basis_ref.split(",")[0]))
    consent_withdraw(consent=consent, withdrawn_on=timezone.localdate(), by=personas.caseworker_a, case=case_a)
    assert member.get(_detail(case_a)).status_code == 404


@pytest.mark.django_db
def test_a_named_consent_recorded_on_the_case_never_leaves_the_lead_out(personas, login, case_a):
    person = case_a.subjects.first()
    response = login(personas.caseworker_a).post(
        reverse("casework:consent_create", args=[case_a.pk]),
        {
            "person": person.pk,
            "status": "given",
            "given_by": "self",
            "given_on": "令和7年4月1日",
            "method": "written",
            "scope_kind": "named",
            "organizations": [personas.window_b.pk],
            "purposes": [ConsentPurpose.SHARE_WITH_AGENCIES],
        },
        follow=True,
    )
    assert "提供先に主担当機関" in response.content.decode()
    consent = Consent.objects.get(person=person, case=case_a)
    assert set(consent.organizations.values_list("pk", flat=True)) == {personas.window_a.pk, personas.window_b.pk}
