"""Issue 15, the meetings part: rows 1, 11 and 13, the chair's queue and decisions re-checked by casework.

Each row test reproduces the attack of the issue through the HTTP client and asserts it is refused now.
"""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from casework import disclosure
from casework.models import AccessLog, Case, SupportPlan
from casework.services.cases import case_transition
from casework.services.consent import consent_withdraw
from casework.services.plans import plan_approve, plan_create, plan_propose, plan_set_next_review
from meetings import services as ms
from meetings.models import CaseProposal, Meeting
from tests.factories import (
    add_to_team,
    give_layered_consent,
    make_meeting,
    make_meeting_case,
    propose_case,
    put_on_agenda,
)

pytestmark = pytest.mark.django_db

QUEUE_ONLY = "提案されたケース・見直し期限のケースの一覧から選んでください。"


def _support_meeting_by_http(client, personas) -> Meeting:
    """The chair convenes a 支援会議 and pledges, through the screens."""
    starts = (timezone.localtime() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("meetings:create"),
        {"kind": "support_meeting", "title": "支援会議", "starts_at": starts, "convened_by": personas.municipal.pk},
    )
    assert response.status_code == 302
    meeting = Meeting.objects.latest("id")
    assert client.post(reverse("meetings:pledge", args=[meeting.pk]), {"agree": "yes"}).status_code == 302
    return meeting


def _b_case(personas, **kwargs) -> Case:
    """Window B's case in planning with a draft plan: the chair has no access to it."""
    case = make_meeting_case(
        lead_organization=personas.window_b, lead_worker=personas.caseworker_b, state="planning", **kwargs
    )
    plan_create(case=case, goals="就労準備", by=personas.caseworker_b)
    return case


@pytest.fixture
def consented_case(personas) -> Case:
    """Window A's case in planning with a draft plan, every subject consenting to 重層的支援会議 (case team)."""
    case = make_meeting_case(lead_organization=personas.window_a, lead_worker=personas.caseworker_a, state="planning")
    give_layered_consent(case, by=personas.caseworker_a)
    plan_create(case=case, goals="週1回の訪問", by=personas.caseworker_a)
    return case


def _errors(html: str) -> list[str]:
    return re.findall(r'class="(?:field-error|errors)"[^>]*>(.*?)</', html, re.S)


# ---------------------------------------------------------------------------
# Row 1: a chair puts any case on the agenda, reads it and changes it
# ---------------------------------------------------------------------------


def test_row_1_a_chair_cannot_put_another_organizations_case_on_the_agenda(personas, login):
    chair = login(personas.chair)
    case = _b_case(personas, family_name="狙われ")
    assert chair.get(reverse("casework:case_detail", args=[case.pk])).status_code == 404
    meeting = _support_meeting_by_http(chair, personas)
    url = reverse("meetings:agenda", args=[meeting.pk])
    page = chair.get(url).content.decode()
    assert case.number not in page and QUEUE_ONLY not in page
    # By id from the select, by the old typed number: neither puts the case on the agenda.
    for data in (
        {"action": "add", "case": case.pk, "purpose": "information_sharing"},
        {"action": "add", "case_number": case.number, "purpose": "information_sharing"},
    ):
        response = chair.post(url, data)
        assert response.status_code == 200
        assert QUEUE_ONLY in response.content.decode()
    assert not meeting.items.exists()
    # Even proposed by its lead, the case waits until its lead organization takes part.
    propose_case(case, kind="support_meeting", purpose="information_sharing")
    assert case.number not in chair.get(url).content.decode()
    response = chair.post(url, {"action": "add", "case": case.pk, "purpose": "information_sharing"})
    assert QUEUE_ONLY in response.content.decode() and not meeting.items.exists()
    case.refresh_from_db()
    assert case.state == "planning"


def test_row_1_decisions_change_the_case_only_while_its_lead_takes_part(personas, login):
    chair = login(personas.chair)
    case = _b_case(personas)
    meeting = _support_meeting_by_http(chair, personas)
    item = put_on_agenda(meeting=meeting, case=case, purpose="closure_decision", by=personas.chair)
    lead = meeting.participants.get(user=personas.caseworker_b)
    ms.meeting_participant_remove(participant=lead, by=personas.chair)
    decide = reverse("meetings:decide", args=[meeting.pk, item.pk])
    early = {"confirm_early": "1"}  # the meeting is days ahead: the chair has confirmed deciding early
    response = chair.post(decide, {"kind": "suspend", "text": "連絡が取れない"} | early, follow=True)
    assert "主担当機関" in response.content.decode()
    chair.post(decide, {"kind": "approve_plan"} | early)
    chair.post(decide, {"kind": "next_review", "next_review_on": "2030-01-01"} | early)
    case.refresh_from_db()
    assert case.state == "planning" and case.next_review_on is None
    assert not case.plans.filter(status=SupportPlan.Status.APPROVED).exists()
    assert not item.decisions.exists()
    # The lead comes back (with a pledge): the same decision now applies, logged on the meeting's basis.
    ms.meeting_participant_add(meeting=meeting, user=personas.caseworker_b, by=personas.chair)
    ms.pledge_record(
        participant=meeting.participants.get(user=personas.caseworker_b, removed_at=None), by=personas.chair
    )
    chair.post(decide, {"kind": "suspend", "text": "連絡が取れない"} | early)
    case.refresh_from_db()
    assert case.state == "suspended"
    row = AccessLog.objects.filter(actor=personas.chair, object_type="case", action="transition").latest("id")
    assert row.basis == "support_meeting" and row.basis_ref == f"meeting:{meeting.pk}"


def test_row_1_a_casework_service_refuses_a_meeting_basis_that_does_not_hold(personas):
    case = _b_case(personas)
    # A meeting where the case is not on the agenda, and a made-up reference: both refused.
    meeting = make_meeting(chair=personas.chair, kind="support_meeting")
    for ref in (meeting.decided_by_ref, "meeting:99999999", "x"):
        forged = disclosure.Basis("support_meeting", ref)
        with pytest.raises(PermissionError):
            case_transition(case=case, to_state="suspended", by=personas.chair, reason="x", decided_in=forged)
        with pytest.raises(PermissionError):
            plan_approve(plan=case.plans.get(), by=personas.chair, decided_in=forged)
        with pytest.raises(PermissionError):
            plan_set_next_review(case=case, next_review_on=timezone.localdate(), by=personas.chair, decided_in=forged)
    case.refresh_from_db()
    assert case.state == "planning"


def test_row_1_a_layered_meeting_decision_needs_every_subjects_consent_at_the_moment_it_applies(
    personas, consented_case
):
    meeting = make_meeting(chair=personas.chair, participants=[personas.caseworker_a])
    item = put_on_agenda(meeting=meeting, case=consented_case, purpose="plan_agreement", by=personas.chair)
    for consent in consented_case.person.consents.all():
        consent_withdraw(consent=consent, withdrawn_on=timezone.localdate(), by=personas.caseworker_a)
    with pytest.raises(Exception) as exc:
        ms.meeting_decide(item=item, kind="approve_plan", by=personas.chair)
    assert "本人同意" in " ".join(getattr(exc.value, "messages", [str(exc.value)]))
    assert not consented_case.plans.filter(status=SupportPlan.Status.APPROVED).exists()


# ---------------------------------------------------------------------------
# Row 13: agenda-add answers the same for a missing case and another organization's case
# ---------------------------------------------------------------------------


def test_row_13_unknown_and_inaccessible_cases_get_the_same_answer(personas, login):
    chair = login(personas.chair)
    other = make_meeting_case(lead_organization=personas.window_b, lead_worker=personas.caseworker_b)
    meeting = _support_meeting_by_http(chair, personas)
    layered = make_meeting(chair=personas.chair, participants=[personas.caseworker_a])
    for m in (meeting, layered):
        url = reverse("meetings:agenda", args=[m.pk])
        answers = []
        for data in (
            {"case": 999999999},
            {"case": other.pk},
            {"case_number": "R8-009999"},
            {"case_number": other.number},
        ):
            response = chair.post(url, {"action": "add", "purpose": "progress_review", **data})
            html = response.content.decode()
            assert response.status_code == 200
            assert "見つかりません" not in html and "同意の記録" not in html and "対象者1" not in html
            answers.append(_errors(html))
        assert answers[0] == answers[1] == answers[2] == answers[3] and QUEUE_ONLY in answers[0][0]
        assert not m.items.exists()


# ---------------------------------------------------------------------------
# The queue: proposals, proposed plans and reviews due, of organizations taking part
# ---------------------------------------------------------------------------


def test_the_queue_lists_what_participating_leads_put_forward(personas, login):
    today = timezone.localdate()

    def a_case(name, state="planning"):
        return make_meeting_case(
            lead_organization=personas.window_a, lead_worker=personas.caseworker_a, state=state, family_name=name
        )

    proposed = a_case("提案")
    give_layered_consent(proposed, by=personas.caseworker_a)
    propose_case(proposed, kind="layered_meeting", purpose="information_sharing", reason="役割分担を決めたい")
    plan_case = a_case("計画")
    plan_propose(plan=plan_create(case=plan_case, goals="目標", by=personas.caseworker_a), by=personas.caseworker_a)
    due = a_case("見直し", state="in_support")
    Case.objects.filter(pk=due.pk).update(next_review_on=today + timedelta(days=10))
    later = a_case("先", state="in_support")
    Case.objects.filter(pk=later.pk).update(next_review_on=today + timedelta(days=60))
    other_kind = a_case("別種")
    propose_case(other_kind, kind="support_meeting")
    b_case = _b_case(personas, family_name="西")
    propose_case(b_case, kind="layered_meeting")

    meeting = make_meeting(chair=personas.chair, participants=[personas.caseworker_a])
    url = reverse("meetings:agenda", args=[meeting.pk])
    html = login(personas.chair).get(url).content.decode()
    for case in (proposed, plan_case, due):
        assert case.number in html
    for case in (later, other_kind, b_case):
        assert case.number not in html
    assert "役割分担を決めたい" in html and "提案" in html
    # No person's name in the queue: the case number, its lead and why it was put forward.
    for name in ("提案太郎", "計画太郎", "見直し太郎"):
        assert name not in re.sub(r"\s", "", html)
    # Window B joins: its proposed case enters the queue; picking it takes the proposal.
    ms.meeting_participant_add(meeting=meeting, user=personas.caseworker_b, by=personas.chair)
    assert b_case.number in login(personas.chair).get(url).content.decode()
    response = login(personas.chair).post(url, {"action": "add", "case": proposed.pk, "purpose": "information_sharing"})
    assert response.status_code == 302
    proposal = CaseProposal.objects.get(case=proposed)
    assert proposal.state == "taken" and proposal.item.meeting_id == meeting.pk


def test_the_lead_and_the_team_propose_from_the_case_page_others_get_404(personas, login):
    case = make_meeting_case(lead_organization=personas.window_a, lead_worker=personas.caseworker_a)
    page = login(personas.caseworker_a).get(reverse("casework:case_detail", args=[case.pk])).content.decode()
    propose_url = reverse("meetings:propose", args=[case.pk])
    assert propose_url in page
    data = {"kind": "support_meeting", "purpose": "information_sharing", "reason": "関係機関で共有したい"}
    assert login(personas.caseworker_b).post(propose_url, data).status_code == 404
    assert login(personas.chair).get(propose_url).status_code == 404
    assert not CaseProposal.objects.exists()
    response = login(personas.caseworker_a).post(propose_url, data)
    assert response.status_code == 302
    proposal = CaseProposal.objects.get()
    assert proposal.organization == personas.window_a and proposal.proposed_by == personas.caseworker_a
    # A second open proposal for the same kind is refused with a message.
    response = login(personas.caseworker_a).post(propose_url, data)
    assert response.status_code == 200 and "すでに" in response.content.decode()
    # A team organization with access may propose too; the lead withdraws.
    add_to_team(case, personas.coordinator_org, by=personas.caseworker_a)
    data["kind"] = "layered_meeting"
    assert login(personas.coordinator).post(propose_url, data).status_code == 302
    withdraw = reverse("meetings:proposal_withdraw", args=[proposal.pk])
    assert login(personas.caseworker_b).post(withdraw).status_code == 404
    assert login(personas.caseworker_a).post(withdraw).status_code == 302
    proposal.refresh_from_db()
    assert proposal.state == "withdrawn"


# ---------------------------------------------------------------------------
# A recorded 支援会議 decision is a sharing basis (for referrals, row 7)
# ---------------------------------------------------------------------------


def test_a_support_meeting_role_decision_naming_an_organization_is_a_share_basis(personas):
    case = make_meeting_case(lead_organization=personas.window_a, lead_worker=personas.caseworker_a)
    meeting = make_meeting(
        chair=personas.chair, kind="support_meeting", participants=[personas.caseworker_a, personas.caseworker_b]
    )
    assert disclosure.support_meeting_decision(case, personas.window_b) == ""
    assert disclosure.share_basis(case, personas.window_b) is None
    item = put_on_agenda(meeting=meeting, case=case, purpose="information_sharing", by=personas.chair)
    decision = ms.meeting_decide(
        item=item,
        kind="action",
        text="就労準備支援につなぐ",
        actions=[
            {"organization": personas.window_b, "text": "就労準備支援"},
            {"organization": personas.coordinator_org, "text": "調整"},
        ],
        by=personas.chair,
    )
    ref = disclosure.support_meeting_decision(case, personas.window_b)
    assert ref == f"meeting:{meeting.pk}/decision:{decision.pk}"
    basis = disclosure.share_basis(case, personas.window_b)
    assert basis.kind == "support_meeting" and basis.ref == ref
    # The coordinator did not take part: naming it in a decision is no basis to share with it.
    assert disclosure.support_meeting_decision(case, personas.coordinator_org) == ""


# ---------------------------------------------------------------------------
# Row 11: a participant without a pledge sees decisions through home-page action items
# ---------------------------------------------------------------------------


def test_row_11_an_unpledged_participant_sees_no_action_item_on_the_home_page(personas, login):
    case = make_meeting_case(lead_organization=personas.window_a, lead_worker=personas.caseworker_a)
    meeting = make_meeting(chair=personas.chair, kind="support_meeting", participants=[personas.caseworker_a])
    item = put_on_agenda(meeting=meeting, case=case, purpose="information_sharing", by=personas.chair)
    ms.meeting_participant_add(meeting=meeting, user=personas.caseworker_b, by=personas.chair)
    chair = login(personas.chair)
    chair.post(
        reverse("meetings:decide", args=[meeting.pk, item.pk]),
        {"kind": "action", "text": "秘密の対応事項", "action_organization": personas.window_b.pk},
    )
    action = item.actions.get()
    client = login(personas.caseworker_b)
    home = client.get(reverse("home")).content.decode()
    assert "秘密の対応事項" not in home and case.number not in home
    assert reverse("meetings:action_done", args=[action.pk]) not in home
    assert client.post(reverse("meetings:action_done", args=[action.pk])).status_code == 404
    assert not AccessLog.objects.filter(actor=personas.caseworker_b, object_type="action_home").exists()
    action.refresh_from_db()
    assert not action.done
    # Once window B's participant has pledged, window B follows its action up.
    client.post(reverse("meetings:pledge", args=[meeting.pk]), {"agree": "yes"})
    home = client.get(reverse("home")).content.decode()
    assert "秘密の対応事項" in home
    row = AccessLog.objects.filter(actor=personas.caseworker_b, object_type="action_home").latest("id")
    assert row.basis == "support_meeting" and row.basis_ref == str(meeting.pk)


def test_row_11_action_items_of_an_item_whose_consent_was_withdrawn_are_hidden(personas, consented_case, login):
    meeting = make_meeting(chair=personas.chair, participants=[personas.caseworker_a, personas.caseworker_b])
    item = put_on_agenda(meeting=meeting, case=consented_case, purpose="plan_agreement", by=personas.chair)
    ms.meeting_decide(
        item=item,
        kind="action",
        text="家計相談の予約",
        actions=[{"organization": personas.window_b, "text": "家計相談の予約"}],
        by=personas.chair,
    )
    action = item.actions.get()
    client = login(personas.caseworker_b)
    assert "家計相談の予約" in client.get(reverse("home")).content.decode()
    for consent in consented_case.person.consents.all():
        consent_withdraw(consent=consent, withdrawn_on=timezone.localdate(), by=personas.caseworker_a)
    last = AccessLog.objects.latest("id").pk
    home = client.get(reverse("home")).content.decode()
    assert "家計相談の予約" not in home and consented_case.number not in home
    assert client.post(reverse("meetings:action_done", args=[action.pk])).status_code == 404
    # Nothing is logged on the consent that no longer holds.
    assert not AccessLog.objects.filter(pk__gt=last, object_type="action_home").exists()
    # The case page of the lead hides the meeting's record of the item too.
    case_html = (
        login(personas.caseworker_a).get(reverse("casework:case_detail", args=[consented_case.pk])).content.decode()
    )
    assert "家計相談の予約" not in case_html
