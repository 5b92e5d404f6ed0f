"""The referral workflow: sides, reasons, the consent gate, case-team grants, つなぎ and the access log."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from casework.access import case_access
from casework.models import AccessLog
from casework.services.consent import consent_withdraw
from referrals import services
from referrals.models import LegalBasis, Referral, ReferralState
from tests.factories import make_consent, make_referral
from tests.fake_decisions import record_decision


def _log_rows(referral, action=None):
    rows = AccessLog.objects.filter(object_type="referral", object_id=str(referral.pk))
    return rows.filter(action=action) if action else rows


@pytest.fixture
def inter(personas, case_a):
    """A 機関間 referral from window A to window B, sent with consent."""
    return make_referral(case=case_a, by=personas.caseworker_a, sender=personas.window_a, receiver=personas.window_b)


@pytest.fixture
def participation(personas, case_a, place):
    return make_referral(
        kind="participation", case=case_a, by=personas.caseworker_a, sender=personas.window_a, place=place
    )


def test_fhir_status_maps_returned_to_on_hold_with_business_status():
    r = Referral(state=ReferralState.RETURNED)
    assert (r.fhir_status, r.fhir_business_status) == ("on-hold", "returned")
    assert Referral(state=ReferralState.IN_PROGRESS).fhir_status == "in-progress"


def test_send_with_consent_records_it_and_writes_a_share_row(inter):
    assert inter.state == ReferralState.REQUESTED
    assert inter.legal_basis == LegalBasis.CONSENT and inter.consent_id
    share = _log_rows(inter, AccessLog.Action.SHARE).get()
    assert share.basis == AccessLog.Basis.CONSENT
    assert share.basis_ref == str(inter.consent_id)
    assert share.person_ids == [inter.person_id]
    assert _log_rows(inter, AccessLog.Action.CREATE).count() == 1
    assert _log_rows(inter, AccessLog.Action.TRANSITION).count() == 1


def _draft(personas, case, **kwargs):
    return make_referral(
        case=case, by=personas.caseworker_a, sender=personas.window_a, receiver=personas.window_b, send=False, **kwargs
    )


def test_sending_without_consent_is_blocked_and_changes_nothing(personas, case_a):
    referral = _draft(personas, case_a)
    with pytest.raises(services.ReferralBlocked, match="同意の記録がありません"):
        services.referral_send(referral=referral, by=personas.caseworker_a)
    referral.refresh_from_db()
    assert referral.state == ReferralState.DRAFT
    assert not _log_rows(referral, AccessLog.Action.SHARE).exists()


def test_withdrawn_consent_blocks_sending(personas, case_a):
    referral = _draft(personas, case_a)
    consent = make_consent(
        person=referral.person,
        organizations=[personas.window_b],
        purposes=["share_with_agencies"],
        by=personas.caseworker_a,
    )
    consent_withdraw(consent=consent, withdrawn_on=datetime.date.today(), by=personas.caseworker_a)
    with pytest.raises(services.ReferralBlocked, match="撤回"):
        services.referral_send(referral=referral, by=personas.caseworker_a)


def test_expired_consent_blocks_sending(personas, case_a):
    referral = _draft(personas, case_a)
    today = datetime.date.today()
    make_consent(
        person=referral.person,
        organizations=[personas.window_b],
        purposes=["share_with_agencies"],
        by=personas.caseworker_a,
        given_on=today - datetime.timedelta(days=400),
        valid_until=today - datetime.timedelta(days=1),
    )
    with pytest.raises(services.ReferralBlocked, match="有効期限"):
        services.referral_send(referral=referral, by=personas.caseworker_a)


@pytest.mark.parametrize("scope", ["other_org", "other_purpose"])
def test_consent_out_of_scope_blocks_sending(personas, case_a, scope):
    referral = _draft(personas, case_a)
    make_consent(
        person=referral.person,
        organizations=[personas.coordinator_org if scope == "other_org" else personas.window_b],
        purposes=["place_referral" if scope == "other_purpose" else "share_with_agencies"],
        by=personas.caseworker_a,
    )
    with pytest.raises(services.ReferralBlocked):
        services.referral_send(referral=referral, by=personas.caseworker_a)


def test_a_support_meeting_decision_is_a_recorded_basis_for_inter_agency(personas, case_a, monkeypatch):
    referral = _draft(personas, case_a)
    decision = record_decision(monkeypatch, case_a, referral.receiver_organization)
    sent = services.referral_send(referral=referral, by=personas.caseworker_a, support_meeting_ref=decision.ref)
    assert sent.legal_basis == LegalBasis.SUPPORT_MEETING and sent.legal_basis_ref == decision.ref
    share = _log_rows(sent, AccessLog.Action.SHARE).get()
    assert share.basis == AccessLog.Basis.SUPPORT_MEETING and share.basis_ref == decision.ref[:60]


def test_typed_text_is_not_a_support_meeting_basis(personas, case_a, monkeypatch):
    referral = _draft(personas, case_a)
    record_decision(monkeypatch, case_a, referral.receiver_organization)
    with pytest.raises(services.ReferralBlocked, match="記録済みの決定から選んでください"):
        services.referral_send(referral=referral, by=personas.caseworker_a, support_meeting_ref="第3回支援会議 R7.6.1")
    referral.refresh_from_db()
    assert referral.state == ReferralState.DRAFT and referral.legal_basis == ""


def test_a_support_meeting_decision_does_not_send_to_a_place_without_consent(personas, case_a, place, monkeypatch):
    referral = make_referral(
        kind="participation", case=case_a, by=personas.caseworker_a, sender=personas.window_a, place=place, send=False
    )
    decision = record_decision(monkeypatch, case_a, place.operator)
    with pytest.raises(services.ReferralBlocked):
        services.referral_send(referral=referral, by=personas.caseworker_a, support_meeting_ref=decision.ref)


def test_a_place_card_refuses_diagnosis_words(personas, case_a, place):
    with pytest.raises(ValidationError) as exc:
        make_referral(
            kind="participation",
            case=case_a,
            by=personas.caseworker_a,
            sender=personas.window_a,
            place=place,
            send=False,
            card_accommodations="発達障害のため大人数が苦手",
        )
    assert "card_accommodations" in exc.value.message_dict


@pytest.mark.parametrize("who", ["caseworker_a", "place_staff", "coordinator", "auditor"])
def test_only_the_receiver_may_accept(personas, inter, who):
    with pytest.raises(services.InvalidMove):
        services.referral_move(move="accept", referral=inter, by=getattr(personas, who))
    inter.refresh_from_db()
    assert inter.state == ReferralState.REQUESTED


@pytest.mark.parametrize("who", ["caseworker_b", "place_staff", "coordinator"])
def test_only_the_sender_may_cancel(personas, inter, who):
    with pytest.raises(services.InvalidMove):
        services.referral_move(move="cancel", referral=inter, by=getattr(personas, who), reason="不要になった")


@pytest.mark.parametrize("move", ["reject", "return", "cancel", "hold", "fail"])
def test_moves_that_need_a_reason_refuse_an_empty_one(personas, inter, move):
    if move in {"hold", "fail"}:
        services.referral_move(move="accept", referral=inter, by=personas.caseworker_b)
    by = personas.caseworker_a if move == "cancel" else personas.caseworker_b
    with pytest.raises(services.InvalidMove, match="理由"):
        services.referral_move(referral=inter, move=move, by=by, reason="  ")


def test_acceptance_puts_the_receiver_on_the_case_team_and_cancellation_removes_it(personas, inter, case_a):
    assert case_access(personas.caseworker_b, case_a) is None
    services.referral_move(move="accept", referral=inter, by=personas.caseworker_b)
    assert case_access(personas.caseworker_b, case_a) is not None
    inter.refresh_from_db()
    assert inter.team_added
    services.referral_move(move="cancel", referral=inter, by=personas.caseworker_a, reason="本人が転居")
    assert case_access(personas.caseworker_b, case_a) is None


def test_rejection_gives_no_case_access(personas, inter, case_a):
    services.referral_move(move="reject", referral=inter, by=personas.caseworker_b, reason="対象外")
    assert case_access(personas.caseworker_b, case_a) is None
    inter.refresh_from_db()
    assert inter.state == ReferralState.REJECTED and inter.responded_at


def test_return_then_edit_and_resend(personas, inter):
    services.referral_move(move="return", referral=inter, by=personas.caseworker_b, reason="希望する支援を詳しく")
    inter.refresh_from_db()
    assert inter.fhir_status == "on-hold"
    services.referral_update(referral=inter, by=personas.caseworker_a, request_text="就労体験の調整をお願いします")
    sent = services.referral_send(referral=inter, by=personas.caseworker_a)
    assert sent.state == ReferralState.REQUESTED
    assert [t.to_state for t in sent.transitions.all()] == ["requested", "returned", "requested"]


def test_hold_and_resume_go_back_where_they_were(personas, inter):
    services.referral_move(move="accept", referral=inter, by=personas.caseworker_b)
    services.referral_move(referral=inter, move="start", by=personas.caseworker_b)
    services.referral_move(referral=inter, move="hold", by=personas.caseworker_b, reason="入院中")
    resumed = services.referral_move(referral=inter, move="resume", by=personas.caseworker_b)
    assert resumed.state == ReferralState.IN_PROGRESS


def test_completing_needs_an_outcome(personas, inter):
    services.referral_move(move="accept", referral=inter, by=personas.caseworker_b)
    services.referral_move(referral=inter, move="start", by=personas.caseworker_b)
    with pytest.raises(services.InvalidMove, match="結果"):
        services.referral_move(move="complete", referral=inter, by=personas.caseworker_b, outcome="")
    done = services.referral_move(move="complete", referral=inter, by=personas.caseworker_b, outcome="支援を引き継いだ")
    assert done.state == ReferralState.COMPLETED


def test_a_stale_version_raises_changed(personas, inter):
    version = inter.version
    services.referral_move(move="accept", referral=inter, by=personas.caseworker_b, expected_version=version)
    with pytest.raises(services.ReferralChanged):
        services.referral_move(
            move="reject", referral=inter, by=personas.caseworker_b, reason="x", expected_version=version
        )


def test_participation_loop_closes_at_the_referrer(personas, participation):
    staff, worker = personas.place_staff, personas.caseworker_a
    services.referral_move(move="accept", referral=participation, by=staff)
    today = datetime.date.today()
    services.participation_stage_record(
        referral=participation, stage="visit", on=today, by=staff, accompanied_by="佐藤"
    )
    participation.refresh_from_db()
    assert participation.state == ReferralState.IN_PROGRESS
    services.participation_stage_record(referral=participation, stage="trial", on=today, by=staff)
    services.referral_attendance_record(referral=participation, on=today, status="attended", by=staff, note="楽しそう")
    with pytest.raises(services.InvalidMove):
        services.referral_move(move="complete", referral=participation, by=staff, outcome="定着")
    done = services.referral_move(move="complete", referral=participation, by=worker, outcome="週1回参加で定着")
    assert done.state == ReferralState.COMPLETED
    assert done.place_access_until > done.ended_at
    # Every step wrote an access-log row naming the person.
    actions = list(_log_rows(done).values_list("action", flat=True))
    assert actions.count("change") == 3 and actions.count("transition") == 3
    assert all(row.person_ids == [done.person_id] for row in _log_rows(done))


def test_attendance_is_recorded_only_by_the_place(personas, participation):
    services.referral_move(move="accept", referral=participation, by=personas.place_staff)
    with pytest.raises(services.InvalidMove):
        services.referral_attendance_record(
            referral=participation, on=datetime.date.today(), status="attended", by=personas.caseworker_a
        )


def test_tsunagi_becomes_a_linked_case_at_the_window(personas):
    from casework.access import case_access as access_to

    tsunagi = make_referral(
        kind="tsunagi",
        by=personas.place_staff,
        sender=personas.place_operator,
        receiver=personas.window_a,
        request_text="最近食事に来ると元気がない中学生がいます",
    )
    assert tsunagi.legal_basis == LegalBasis.PERSON_AGREED
    services.referral_move(move="accept", referral=tsunagi, by=personas.caseworker_a)
    case = services.tsunagi_open_case(
        referral=tsunagi, by=personas.caseworker_a, domains=["child"], main_category="childcare"
    )
    tsunagi.refresh_from_db()
    assert tsunagi.linked_case == case and tsunagi.state == ReferralState.IN_PROGRESS
    assert case.intake_route == "place" and case.lead_organization == personas.window_a
    assert access_to(personas.place_staff, case) is None
    with pytest.raises(services.InvalidMove):
        services.tsunagi_open_case(
            referral=tsunagi, by=personas.caseworker_a, domains=["child"], main_category="childcare"
        )


def test_tsunagi_needs_a_basis(personas):
    tsunagi = make_referral(
        kind="tsunagi", by=personas.place_staff, sender=personas.place_operator, receiver=personas.window_a, send=False
    )
    with pytest.raises(services.ReferralBlocked):
        services.referral_send(referral=tsunagi, by=personas.place_staff)


def test_overdue_command_lists_per_organization(personas, inter, capsys):
    from django.core.management import call_command

    Referral.objects.filter(pk=inter.pk).update(due_on=datetime.date.today() - datetime.timedelta(days=1))
    call_command("overdue_referrals")
    out = capsys.readouterr().out
    assert personas.window_b.name in out and f"#{inter.pk}" in out
