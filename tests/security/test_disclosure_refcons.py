"""Issue 15, rows 2 and 7 on the referral side: a card rests on a basis that holds now, and a 支援会議 basis is a record.

Row 2: withdrawing (or narrowing) the consent a referral was sent on withdraws the unanswered referral,
and the receiver no longer sees the card, lists it, or accepts it; a place's card ends at once. An
expired consent has the same effect at read time. Row 7: a referral sent without consent on a
支援会議 basis must cite a decision recorded in this system; typed text is refused.
"""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from casework import disclosure
from casework.models import AccessLog, Consent
from referrals import services
from referrals.models import ReferralState
from tests.factories import make_referral
from tests.fake_decisions import record_decision
from tests.refusals import refused_page

NAME = "山田花子"
PREFERRED = "はなこさん"


def _detail(referral):
    return reverse("referrals:detail", args=[referral.pk])


def _withdraw(client, referral):
    """Withdraw the referral's consent through the case screen, as the lead organization does."""
    return client.post(
        reverse("casework:consent_withdraw", args=[referral.case_id, referral.consent_id]),
        {"withdrawn_on": timezone.localdate().isoformat(), "note": "本人の申し出"},
    )


def _expire(referral):
    """Let the referral's consent run out (its valid_until passed yesterday)."""
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    Consent.objects.filter(pk=referral.consent_id).update(
        given_on=yesterday - datetime.timedelta(days=30), valid_until=yesterday
    )


def _lists_show(client, referral) -> bool:
    """Whether the receiver's inbox, inbox CSV or home page still shows the card."""
    inbox = client.get(reverse("referrals:inbox")).content.decode()
    csv = client.get(reverse("referrals:inbox_csv")).content.decode("utf-8-sig")
    home = client.get(reverse("home")).content.decode()
    return any(f"#{referral.pk}" in page or PREFERRED in page for page in (inbox, home)) or PREFERRED in csv


def _allowed_rows(referral, actor):
    return AccessLog.objects.filter(
        object_type="referral", object_id=str(referral.pk), actor=actor, outcome=AccessLog.Outcome.ALLOWED
    )


@pytest.fixture
def inter(personas, case_a):
    """A 機関間 referral from window A to window B, sent on a consent naming window B, with the full name."""
    return make_referral(
        case=case_a,
        by=personas.caseworker_a,
        sender=personas.window_a,
        receiver=personas.window_b,
        card_name=NAME,
        card_preferred_name=PREFERRED,
    )


@pytest.fixture
def participation(personas, case_a, place):
    """A 参加支援 referral to the persona place, sent on a consent naming its operator."""
    return make_referral(
        kind="participation",
        case=case_a,
        by=personas.caseworker_a,
        sender=personas.window_a,
        place=place,
        card_preferred_name=PREFERRED,
        card_wishes="料理をしたい",
    )


# ---------------------------------------------------------------------------
# Row 2: 機関間
# ---------------------------------------------------------------------------


def test_row_2_withdrawing_consent_withdraws_the_inter_agency_referral_and_hides_the_card(personas, inter, login):
    receiver = login(personas.caseworker_b)
    page = receiver.get(_detail(inter))
    assert page.status_code == 200 and NAME in page.content.decode()
    view_row = _allowed_rows(inter, personas.caseworker_b).filter(action=AccessLog.Action.VIEW).get()
    assert (view_row.basis, view_row.basis_ref) == (AccessLog.Basis.CONSENT, str(inter.consent_id))

    assert _withdraw(login(personas.caseworker_a), inter).status_code == 302

    inter.refresh_from_db()
    assert inter.state == ReferralState.CANCELLED and inter.ended_at is not None
    last = inter.transitions.last()
    assert (last.from_state, last.to_state, last.reason) == ("requested", "cancelled", "本人同意の撤回により取り下げ")
    assert last.by == personas.caseworker_a and last.organization_id == personas.window_a.pk
    cascade = AccessLog.objects.filter(
        object_type="referral", object_id=str(inter.pk), action=AccessLog.Action.TRANSITION
    ).first()
    assert cascade.actor == personas.caseworker_a and cascade.reason == "requested→cancelled"
    assert cascade.basis_ref == f"consent_lapsed:{inter.consent_id}"

    rows_before = _allowed_rows(inter, personas.caseworker_b).count()
    assert receiver.get(_detail(inter)).status_code == 404
    assert not _lists_show(receiver, inter)
    # Nothing is logged for the receiver on a basis that no longer holds.
    assert _allowed_rows(inter, personas.caseworker_b).count() == rows_before
    # Accepting is refused and changes nothing; the case stays closed to the receiver.
    accept = receiver.post(reverse("referrals:move", args=[inter.pk, "accept"]), {"version": inter.version})
    assert accept.status_code == 404
    inter.refresh_from_db()
    assert inter.state == ReferralState.CANCELLED and not inter.team_added
    assert receiver.get(reverse("casework:case_detail", args=[inter.case_id])).status_code == 404
    # The sender keeps the record, marked with the reason.
    sender_page = login(personas.caseworker_a).get(_detail(inter)).content.decode()
    assert "本人同意の撤回により取り下げ" in sender_page


def test_row_2_an_expired_consent_hides_the_card_and_refuses_acceptance(personas, inter, login):
    receiver = login(personas.caseworker_b)
    assert receiver.get(_detail(inter)).status_code == 200
    _expire(inter)

    assert receiver.get(_detail(inter)).status_code == 404
    assert not _lists_show(receiver, inter)
    accept = receiver.post(reverse("referrals:move", args=[inter.pk, "accept"]), {"version": inter.version})
    assert accept.status_code == 404
    inter.refresh_from_db()
    assert inter.state == ReferralState.REQUESTED and not inter.team_added
    assert receiver.get(reverse("casework:case_detail", args=[inter.case_id])).status_code == 404
    # The service refuses too, with a Japanese message, whoever calls it.
    with pytest.raises(services.InvalidMove, match="根拠"):
        services.referral_move(move="accept", referral=inter, by=personas.caseworker_b)
    inter.refresh_from_db()
    assert inter.state == ReferralState.REQUESTED


def test_row_2_an_accepted_card_is_hidden_from_the_receiver_once_consent_is_withdrawn(personas, inter, login):
    receiver = login(personas.caseworker_b)
    assert (
        receiver.post(reverse("referrals:move", args=[inter.pk, "accept"]), {"version": inter.version}).status_code
        == 302
    )
    assert _withdraw(login(personas.caseworker_a), inter).status_code == 302
    inter.refresh_from_db()
    # Accepted referrals keep their state for the sender to close; the card is no longer the receiver's.
    assert inter.state == ReferralState.ACCEPTED
    assert receiver.get(_detail(inter)).status_code == 404
    assert not _lists_show(receiver, inter)


def test_row_2_a_narrowed_consent_withdraws_the_referral_it_no_longer_covers(personas, inter, login):
    consent = inter.consent
    # A narrowing that drops the receiver (the casework service that narrows calls consent_lapsed the same way).
    consent.organizations.set([personas.coordinator_org])
    disclosure.consent_lapsed(consent, by=personas.caseworker_a)
    inter.refresh_from_db()
    assert inter.state == ReferralState.CANCELLED
    assert inter.transitions.last().reason == "本人同意の範囲の変更により取り下げ"
    assert login(personas.caseworker_b).get(_detail(inter)).status_code == 404


# ---------------------------------------------------------------------------
# Row 2: 参加支援 (place cards)
# ---------------------------------------------------------------------------


def test_row_2_withdrawing_consent_withdraws_a_pending_place_referral(personas, participation, login):
    place = login(personas.place_staff)
    assert place.get(_detail(participation)).status_code == 200
    assert _withdraw(login(personas.caseworker_a), participation).status_code == 302
    participation.refresh_from_db()
    assert participation.state == ReferralState.CANCELLED
    assert participation.place_access_until <= timezone.now()
    assert participation.transitions.last().reason == "本人同意の撤回により取り下げ"
    assert place.get(_detail(participation)).status_code == 404
    assert not _lists_show(place, participation)


def test_row_2_a_place_loses_an_accepted_card_at_once_when_consent_is_withdrawn(personas, participation, login):
    place = login(personas.place_staff)
    move = reverse("referrals:move", args=[participation.pk, "accept"])
    assert place.post(move, {"version": participation.version}).status_code == 302
    participation.refresh_from_db()
    assert _lists_show(place, participation)

    assert _withdraw(login(personas.caseworker_a), participation).status_code == 302

    participation.refresh_from_db()
    assert participation.state == ReferralState.ACCEPTED
    assert participation.place_access_until <= timezone.now()
    assert place.get(_detail(participation)).status_code == 404
    assert not _lists_show(place, participation)
    # Recording attendance on the card is refused and records nothing.
    response = place.post(
        reverse("referrals:attendance", args=[participation.pk]),
        {"on": timezone.localdate().isoformat(), "status": "present"},
    )
    assert response.status_code == 404
    assert not participation.place.attendances.exists()


def test_row_2_the_place_attendance_screen_drops_a_participant_whose_consent_was_withdrawn(
    personas, participation, login
):
    place = login(personas.place_staff)
    assert (
        place.post(
            reverse("referrals:move", args=[participation.pk, "accept"]), {"version": participation.version}
        ).status_code
        == 302
    )
    place.post(
        reverse("referrals:attendance", args=[participation.pk]),
        {"on": timezone.localdate().isoformat(), "status": "attended", "hours": "1"},
    )
    url = reverse("places:attendance", args=[participation.place_id])
    assert PREFERRED in place.get(url).content.decode()
    row = AccessLog.objects.filter(object_type="places.attendance", basis=AccessLog.Basis.CONSENT).get()
    assert (row.person_ids, row.basis_ref) == ([participation.person_id], str(participation.consent_id))

    assert _withdraw(login(personas.caseworker_a), participation).status_code == 302

    assert PREFERRED not in place.get(url).content.decode()
    response = place.post(
        url,
        {
            "participant_ref": participation.participant_ref,
            "on": timezone.localdate().isoformat(),
            "status": "absent",
        },
    )
    assert response.status_code == 200
    assert participation.place.attendances.get().status == "attended"
    # Nothing more is logged on the withdrawn consent.
    assert AccessLog.objects.filter(object_type="places.attendance", basis=AccessLog.Basis.CONSENT).count() == 1


def test_row_2_a_place_loses_the_card_when_consent_expires(personas, participation, login):
    place = login(personas.place_staff)
    assert (
        place.post(
            reverse("referrals:move", args=[participation.pk, "accept"]), {"version": participation.version}
        ).status_code
        == 302
    )
    _expire(participation)
    assert place.get(_detail(participation)).status_code == 404
    assert not _lists_show(place, participation)
    participation.refresh_from_db()
    assert participation.state == ReferralState.ACCEPTED


def test_row_2_list_log_rows_carry_the_basis_the_module_returned(personas, inter, participation, login):
    login(personas.place_staff).get(reverse("referrals:inbox"))
    row = AccessLog.objects.filter(object_type="referral_inbox", actor=personas.place_staff).get()
    assert (row.basis, row.basis_ref, row.person_ids) == (
        AccessLog.Basis.CONSENT,
        str(participation.consent_id),
        [participation.person_id],
    )
    _expire(participation)
    login(personas.place_staff).get(reverse("referrals:inbox"))
    row = AccessLog.objects.filter(object_type="referral_inbox", actor=personas.place_staff).first()
    assert (row.basis, row.person_ids) == (AccessLog.Basis.NONE, [])


def test_row_2_a_support_meeting_card_disappears_when_the_decision_is_no_longer_on_record(
    personas, case_a, login, monkeypatch
):
    decision = record_decision(monkeypatch, case_a, personas.window_b)
    referral = make_referral(
        case=case_a,
        by=personas.caseworker_a,
        sender=personas.window_a,
        receiver=personas.window_b,
        send=False,
        card_preferred_name=PREFERRED,
    )
    services.referral_send(referral=referral, by=personas.caseworker_a, support_meeting_ref=decision.ref)
    receiver = login(personas.caseworker_b)
    assert receiver.get(_detail(referral)).status_code == 200
    row = _allowed_rows(referral, personas.caseworker_b).get()
    assert (row.basis, row.basis_ref) == (AccessLog.Basis.SUPPORT_MEETING, decision.ref[:60])
    decision.revoke()
    assert receiver.get(_detail(referral)).status_code == 404
    assert not _lists_show(receiver, referral)


# ---------------------------------------------------------------------------
# Row 7: a 支援会議 basis is a recorded decision, never free text
# ---------------------------------------------------------------------------


@pytest.fixture
def draft(personas, case_a):
    """A 機関間 draft to window B with no consent naming it."""
    return make_referral(
        case=case_a, by=personas.caseworker_a, sender=personas.window_a, receiver=personas.window_b, send=False
    )


@pytest.mark.parametrize("text", ["x", "支援会議 R7.5.1"])
def test_row_7_typed_text_is_refused_as_a_support_meeting_basis(personas, draft, login, text):
    client = login(personas.caseworker_a)
    response = client.post(
        reverse("referrals:send", args=[draft.pk]), {"version": draft.version, "support_meeting_ref": text}
    )
    # Refused: back to the referral page with the message (core.refusals).
    assert "記録された決定の一覧から選んでください" in refused_page(client, response, _detail(draft))
    draft.refresh_from_db()
    assert (draft.state, draft.legal_basis, draft.legal_basis_ref) == (ReferralState.DRAFT, "", "")
    assert login(personas.caseworker_b).get(_detail(draft)).status_code == 404
    with pytest.raises(services.ReferralBlocked, match="記録済みの決定"):
        services.referral_send(referral=draft, by=personas.caseworker_a, support_meeting_ref=text)


def test_row_7_typed_text_is_refused_even_when_a_decision_exists(personas, draft, login, monkeypatch):
    decision = record_decision(monkeypatch, draft.case, personas.window_b)
    client = login(personas.caseworker_a)
    response = client.post(
        reverse("referrals:send", args=[draft.pk]),
        {"version": draft.version, "support_meeting_ref": decision.ref + "x"},
    )
    refused_page(client, response, _detail(draft))
    draft.refresh_from_db()
    assert draft.state == ReferralState.DRAFT


def test_row_7_a_recorded_decision_is_offered_and_becomes_the_basis(personas, draft, login, monkeypatch):
    client = login(personas.caseworker_a)
    assert "記録はありません" in client.get(_detail(draft)).content.decode()
    decision = record_decision(monkeypatch, draft.case, personas.window_b)
    page = client.get(_detail(draft)).content.decode()
    assert f'<option value="{decision.ref}">' in page
    response = client.post(
        reverse("referrals:send", args=[draft.pk]), {"version": draft.version, "support_meeting_ref": decision.ref}
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.state, draft.legal_basis, draft.legal_basis_ref) == (
        ReferralState.REQUESTED,
        "support_meeting",
        decision.ref,
    )
    share = AccessLog.objects.filter(
        object_type="referral", object_id=str(draft.pk), action=AccessLog.Action.SHARE
    ).get()
    assert (share.basis, share.basis_ref) == (AccessLog.Basis.SUPPORT_MEETING, decision.ref[:60])
