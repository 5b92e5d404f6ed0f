"""決裁: closure, suspension and plans wait for a supervisor of the lead organization (issue 18, item 4)."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from casework.calendar import dated_items
from casework.choices import Role
from casework.models import (
    AccessLog,
    ApprovalKind,
    ApprovalRequest,
    ApprovalState,
    Case,
    CaseState,
    CaseTransition,
    Notification,
    NotificationKind,
    SupportPlan,
)
from casework.services.approvals import (
    approval_decide,
    approval_request_closing,
    case_close_or_request,
    plan_approve_or_request,
)
from casework.services.cases import case_transition
from casework.services.plans import plan_create, plan_update
from casework.viewers import Viewer
from referrals.models import ReferralState
from tests.factories import MembershipFactory, UserFactory, make_referral

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_support(personas, case_a):
    by = personas.caseworker_a
    case = case_a
    for state in ("assessment", "planning", "in_support"):
        case = case_transition(case=case, to_state=state, by=by)
    Case.objects.filter(pk=case.pk).update(next_review_on=timezone.localdate() + datetime.timedelta(days=20))
    case.refresh_from_db()
    return case


@pytest.fixture
def open_referral(personas, in_support):
    return make_referral(
        kind="inter_agency",
        case=in_support,
        by=personas.caseworker_a,
        sender=personas.window_a,
        receiver=personas.window_b,
    )


def _request_closure(personas, case, referral, *, referral_choice="cancel", review="clear", to_state="closed"):
    return approval_request_closing(
        case=case,
        to_state=to_state,
        by=personas.caseworker_a,
        reason="目標を達成し、本人も終結を希望",
        choices={f"referral:{referral.pk}": referral_choice, "review": review},
    )


def test_a_closure_with_approval_on_stays_requested_and_closes_nothing(personas, in_support, open_referral, login):
    review_on = in_support.next_review_on
    response = login(personas.caseworker_a).post(
        reverse("casework:transition", args=[in_support.pk]),
        {
            "to_state": "closed",
            "reason": "目標達成",
            "expected_version": in_support.version,
            f"open-referral-{open_referral.pk}": "cancel",
            "open-review": "clear",
        },
        follow=True,
    )
    page = response.content.decode()
    assert "決裁を申請しました" in page and "決裁待ち" in page
    in_support.refresh_from_db()
    open_referral.refresh_from_db()
    assert in_support.state == CaseState.IN_SUPPORT and in_support.next_review_on == review_on
    assert in_support.closed_on is None
    assert open_referral.state == ReferralState.REQUESTED
    approval = ApprovalRequest.objects.get(case=in_support)
    assert approval.state == ApprovalState.PENDING and approval.kind == ApprovalKind.CLOSURE
    assert approval.requested_by == personas.caseworker_a
    assert approval.payload["choices"] == {f"referral:{open_referral.pk}": "cancel", "review": "clear"}
    assert not CaseTransition.objects.filter(case=in_support, to_state=CaseState.CLOSED).exists()
    # The lead organization's supervisor is told; the requester and other organizations are not.
    told = Notification.objects.filter(kind=NotificationKind.APPROVAL_REQUESTED)
    assert list(told.values_list("user_id", flat=True)) == [personas.supervisor_a.pk]
    assert personas.caseworker_a.get_full_name() not in told.get().summary


def test_the_request_is_checked_like_the_closure_and_an_incomplete_one_records_nothing(
    personas, in_support, open_referral
):
    from casework.services.common import InvalidTransition

    with pytest.raises(InvalidTransition, match="扱いを選んでください"):
        approval_request_closing(
            case=in_support, to_state="closed", by=personas.caseworker_a, reason="目標達成", choices={}
        )
    with pytest.raises(InvalidTransition, match="理由が必要"):
        approval_request_closing(
            case=in_support,
            to_state="closed",
            by=personas.caseworker_a,
            reason="  ",
            choices={f"referral:{open_referral.pk}": "cancel", "review": "clear"},
        )
    assert not ApprovalRequest.objects.exists()


def test_approval_applies_exactly_the_requested_choices(personas, in_support, open_referral):
    review_on = in_support.next_review_on
    # Withdraw the referral, but keep the review date: the approval must do exactly that.
    approval = _request_closure(personas, in_support, open_referral, review="keep")
    decided = approval_decide(approval=approval, by=personas.supervisor_a, approve=True, comment="確認しました")
    in_support.refresh_from_db()
    open_referral.refresh_from_db()
    assert decided.state == ApprovalState.APPROVED and decided.decided_by == personas.supervisor_a
    assert in_support.state == CaseState.CLOSED and in_support.closed_on == timezone.localdate()
    assert open_referral.state == ReferralState.CANCELLED
    assert in_support.next_review_on == review_on
    move = CaseTransition.objects.get(case=in_support, to_state=CaseState.CLOSED)
    # The state machine's history names the request: who asked, who approved, and the reason asked for.
    assert move.approval == decided and move.approval.requested_by == personas.caseworker_a
    assert move.by == personas.supervisor_a and move.reason == "目標を達成し、本人も終結を希望"
    assert "申請: 佐藤 一郎" in move.decided_by_label and "承認: 髙橋 三郎" in move.decided_by_label
    told = Notification.objects.get(kind=NotificationKind.APPROVAL_DECIDED)
    assert told.user == personas.caseworker_a and "承認されました" in told.summary


def test_suspension_goes_through_the_same_approval(personas, in_support, open_referral):
    approval = _request_closure(personas, in_support, open_referral, to_state="suspended")
    assert approval.kind == ApprovalKind.SUSPENSION
    in_support.refresh_from_db()
    assert in_support.state == CaseState.IN_SUPPORT
    approval_decide(approval=approval, by=personas.supervisor_a, approve=True)
    in_support.refresh_from_db()
    assert in_support.state == CaseState.SUSPENDED


def test_send_back_changes_nothing_and_tells_the_requester_why(personas, in_support, open_referral, login):
    approval = _request_closure(personas, in_support, open_referral)
    before = Case.objects.values().get(pk=in_support.pk)
    response = login(personas.supervisor_a).post(
        reverse("casework:approval_detail", args=[in_support.pk, approval.pk]),
        {"decision": "return", "comment": "紹介先の回答を待ってから再申請してください"},
        follow=True,
    )
    assert "差し戻しました" in response.content.decode()
    approval.refresh_from_db()
    open_referral.refresh_from_db()
    assert approval.state == ApprovalState.RETURNED and approval.comment.startswith("紹介先の回答")
    assert Case.objects.values().get(pk=in_support.pk) == before
    assert open_referral.state == ReferralState.REQUESTED
    told = Notification.objects.get(kind=NotificationKind.APPROVAL_DECIDED)
    assert told.user == personas.caseworker_a and "差し戻されました" in told.summary
    # The requester reads the comment in the case's history.
    page = login(personas.caseworker_a).get(in_support.get_absolute_url()).content.decode()
    assert "差戻し" in page and "紹介先の回答を待ってから再申請してください" in page


def test_a_send_back_needs_a_comment(personas, in_support, open_referral, login):
    approval = _request_closure(personas, in_support, open_referral)
    with pytest.raises(ValidationError):
        approval_decide(approval=approval, by=personas.supervisor_a, approve=False, comment=" ")
    response = login(personas.supervisor_a).post(
        reverse("casework:approval_detail", args=[in_support.pk, approval.pk]), {"decision": "return", "comment": ""}
    )
    assert response.status_code == 200 and "差し戻す理由" in response.content.decode()
    approval.refresh_from_db()
    assert approval.state == ApprovalState.PENDING


def test_a_supervisor_cannot_approve_their_own_request_even_with_two_hats(personas, in_support, open_referral, login):
    # The supervisor also holds a caseworker hat in the same organization and asks as the caseworker.
    two_hats = personas.supervisor_a
    MembershipFactory(user=two_hats, organization=personas.window_a, role=Role.CASEWORKER)
    approval = approval_request_closing(
        case=in_support,
        to_state="closed",
        by=two_hats,
        reason="目標達成",
        choices={f"referral:{open_referral.pk}": "cancel", "review": "clear"},
    )
    with pytest.raises(PermissionDenied, match="ご自身の申請"):
        approval_decide(approval=approval, by=two_hats, approve=True)
    client = login(two_hats)
    page = client.get(reverse("casework:approval_detail", args=[in_support.pk, approval.pk])).content.decode()
    assert "ご自身の申請は決裁できません" in page and 'value="approve"' not in page
    response = client.post(
        reverse("casework:approval_detail", args=[in_support.pk, approval.pk]), {"decision": "approve", "comment": ""}
    )
    assert response.status_code == 200 and "ご自身の申請" in response.content.decode()
    # Nor does it appear on their own やること.
    today = timezone.localdate()
    assert not [i for i in dated_items(Viewer(two_hats), today, today) if i.kind == "決裁"]
    in_support.refresh_from_db()
    approval.refresh_from_db()
    assert in_support.state == CaseState.IN_SUPPORT and approval.state == ApprovalState.PENDING
    # And the database refuses it too.
    with pytest.raises(IntegrityError), transaction.atomic():
        ApprovalRequest.objects.filter(pk=approval.pk).update(
            state=ApprovalState.APPROVED, decided_by=two_hats, decided_at=timezone.now()
        )


def test_only_a_supervisor_of_the_lead_organization_decides(personas, in_support, open_referral):
    approval = _request_closure(personas, in_support, open_referral)
    other_supervisor = MembershipFactory(
        user=UserFactory(username="sv_b"), organization=personas.window_b, role=Role.SUPERVISOR
    ).user
    for user in (personas.caseworker_a, other_supervisor, personas.coordinator, personas.chair, personas.administrator):
        with pytest.raises(PermissionDenied):
            approval_decide(approval=approval, by=user, approve=True)
    approval.refresh_from_db()
    assert approval.state == ApprovalState.PENDING


@pytest.mark.parametrize(
    "who", ["caseworker_a", "caseworker_b", "coordinator", "chair", "place_staff", "auditor", "administrator"]
)
def test_the_decision_screen_is_404_to_everyone_but_the_lead_supervisors(
    personas, in_support, open_referral, login, who
):
    approval = _request_closure(personas, in_support, open_referral)
    client = login(getattr(personas, who))
    url = reverse("casework:approval_detail", args=[in_support.pk, approval.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"decision": "approve", "comment": ""}).status_code == 404
    assert client.get(reverse("casework:approvals")).status_code == 404
    approval.refresh_from_db()
    assert approval.state == ApprovalState.PENDING
    if who in {"caseworker_a", "caseworker_b", "coordinator", "chair"}:
        # Case staff reach the case check, which logs the refusal (the others have no case screens at all).
        assert AccessLog.objects.filter(actor=getattr(personas, who), outcome=AccessLog.Outcome.DENIED).exists()


def test_the_supervisor_approves_from_todo_and_the_approval_screen(personas, in_support, open_referral, login):
    approval = _request_closure(personas, in_support, open_referral)
    client = login(personas.supervisor_a)
    todo = client.get(reverse("casework:todo")).content.decode()
    assert in_support.number in todo and "終結の決裁" in todo and approval.get_absolute_url() in todo
    listing = client.get(reverse("casework:approvals")).content.decode()
    assert in_support.number in listing and "佐藤 一郎" in listing
    detail = client.get(approval.get_absolute_url())
    page = detail.content.decode()
    assert detail["Cache-Control"].startswith("no-store") or "no-store" in detail["Cache-Control"]
    assert "目標を達成し、本人も終結を希望" in page and "取り下げる" in page and 'value="approve"' in page
    assert AccessLog.objects.filter(
        actor=personas.supervisor_a, object_type="approvalrequest", object_id=str(approval.pk)
    ).exists()
    response = client.post(approval.get_absolute_url(), {"decision": "approve", "comment": ""}, follow=True)
    assert "承認しました" in response.content.decode()
    in_support.refresh_from_db()
    assert in_support.state == CaseState.CLOSED
    # Decided: gone from やること.
    assert in_support.number not in client.get(reverse("casework:todo")).content.decode()


def test_a_caseworker_of_another_window_never_sees_the_request_on_todo(personas, in_support, open_referral):
    _request_closure(personas, in_support, open_referral)
    today = timezone.localdate()
    for user in (personas.caseworker_a, personas.caseworker_b, personas.coordinator):
        assert not [i for i in dated_items(Viewer(user), today, today) if i.kind == "決裁"]
    items = [i for i in dated_items(Viewer(personas.supervisor_a), today, today) if i.kind == "決裁"]
    assert len(items) == 1 and items[0].todo and in_support.number in items[0].title


def test_a_second_closing_request_waits_for_the_first(personas, in_support, open_referral):
    from casework.services.common import InvalidTransition

    _request_closure(personas, in_support, open_referral)
    with pytest.raises(InvalidTransition, match="決裁待ち"):
        _request_closure(personas, in_support, open_referral, to_state="suspended")


def test_an_approval_that_no_longer_fits_the_case_changes_nothing(personas, in_support, open_referral):
    approval = _request_closure(personas, in_support, open_referral)
    # Something new is open since the request: the approval cannot apply choices nobody made.
    newer = make_referral(
        kind="inter_agency",
        case=in_support,
        by=personas.caseworker_a,
        sender=personas.window_a,
        receiver=personas.window_b,
    )
    from casework.services.common import InvalidTransition

    with pytest.raises(InvalidTransition, match="扱いを選んでください"):
        approval_decide(approval=approval, by=personas.supervisor_a, approve=True)
    approval.refresh_from_db()
    in_support.refresh_from_db()
    open_referral.refresh_from_db()
    newer.refresh_from_db()
    assert approval.state == ApprovalState.PENDING and in_support.state == CaseState.IN_SUPPORT
    assert open_referral.state == ReferralState.REQUESTED and newer.state == ReferralState.REQUESTED


# ---------------------------------------------------------------------------
# Plans
# ---------------------------------------------------------------------------


@pytest.fixture
def draft_plan(personas, case_a):
    case = case_transition(case=case_a, to_state="assessment", by=personas.caseworker_a)
    case = case_transition(case=case, to_state="planning", by=personas.caseworker_a)
    return plan_create(case=case, goals="通院の再開", by=personas.caseworker_a)


def test_a_plan_approval_outside_a_meeting_waits_and_the_plan_is_frozen(personas, draft_plan, login):
    response = login(personas.caseworker_a).post(
        reverse("casework:plan_detail", args=[draft_plan.case_id, draft_plan.pk]),
        {"form": "approve", "decided_by_label": ""},
        follow=True,
    )
    assert "決裁を申請しました" in response.content.decode()
    draft_plan.refresh_from_db()
    assert draft_plan.status == SupportPlan.Status.DRAFT
    assert Case.objects.get(pk=draft_plan.case_id).state == CaseState.PLANNING
    with pytest.raises(ValidationError, match="決裁待ち"):
        plan_update(plan=draft_plan, by=personas.caseworker_a, goals="書き換え")
    approval = ApprovalRequest.objects.get(plan=draft_plan)
    approval_decide(approval=approval, by=personas.supervisor_a, approve=True)
    draft_plan.refresh_from_db()
    case = Case.objects.get(pk=draft_plan.case_id)
    assert draft_plan.status == SupportPlan.Status.APPROVED and draft_plan.approved_by_ref == f"approval:{approval.pk}"
    assert case.state == CaseState.IN_SUPPORT
    assert CaseTransition.objects.get(case=case, to_state=CaseState.IN_SUPPORT).approval == approval


def test_a_plan_sent_back_stays_a_draft_and_can_be_edited_again(personas, draft_plan):
    outcome = plan_approve_or_request(plan=draft_plan, by=personas.caseworker_a)
    approval_decide(approval=outcome.approval, by=personas.supervisor_a, approve=False, comment="目標を具体的に")
    draft_plan.refresh_from_db()
    assert draft_plan.status == SupportPlan.Status.DRAFT
    plan_update(plan=draft_plan, by=personas.caseworker_a, goals="月2回の通院を再開する")


# ---------------------------------------------------------------------------
# The municipality's switches
# ---------------------------------------------------------------------------


def test_with_closure_approval_off_the_closure_applies_at_once(personas, in_support, open_referral, settings):
    settings.APPROVAL_CLOSURE = False
    outcome = case_close_or_request(
        case=in_support,
        to_state="closed",
        by=personas.caseworker_a,
        reason="目標達成",
        choices={f"referral:{open_referral.pk}": "cancel", "review": "clear"},
    )
    assert not outcome.waiting and outcome.case.state == CaseState.CLOSED
    assert not ApprovalRequest.objects.exists()


def test_each_switch_is_its_own(personas, in_support, open_referral, settings):
    settings.APPROVAL_CLOSURE = False
    settings.APPROVAL_SUSPENSION = True
    outcome = case_close_or_request(
        case=in_support,
        to_state="suspended",
        by=personas.caseworker_a,
        reason="連絡が取れない",
        choices={f"referral:{open_referral.pk}": "keep", "review": "keep"},
    )
    assert outcome.waiting and outcome.approval.kind == ApprovalKind.SUSPENSION


def test_with_plan_approval_off_the_plan_is_approved_at_once(personas, draft_plan, settings):
    settings.APPROVAL_PLAN = False
    outcome = plan_approve_or_request(plan=draft_plan, by=personas.caseworker_a)
    draft_plan.refresh_from_db()
    assert not outcome.waiting and draft_plan.status == SupportPlan.Status.APPROVED


def test_the_defaults_are_on(settings):
    from django.conf import settings as live

    assert live.APPROVAL_CLOSURE and live.APPROVAL_SUSPENSION and live.APPROVAL_PLAN


def test_a_bad_switch_value_stops_start_up(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from config.env import env_bool

    monkeypatch.setenv("APPROVAL_CLOSURE", "たぶん")
    with pytest.raises(ImproperlyConfigured, match="APPROVAL_CLOSURE"):
        env_bool("APPROVAL_CLOSURE", True)
