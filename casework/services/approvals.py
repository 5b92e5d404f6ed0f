"""決裁: closing or suspending a case and approving a plan outside a meeting wait for a supervisor.

A caseworker of the lead organization asks (`case_close_or_request`, `plan_approve_or_request`); when the
municipality switched that approval on (settings APPROVAL_CLOSURE / APPROVAL_SUSPENSION / APPROVAL_PLAN)
nothing changes yet: an ApprovalRequest keeps exactly what was asked and the lead organization's
supervisors are told. A supervisor of the lead organization other than the requester approves (the
change is applied by the ordinary service, in the approval's transaction, with the request on the case's
history) or sends it back with a comment (nothing changes; the requester is told). With the approval
switched off the change applies at once, as before. Meeting decisions (decided_in) never pass here:
the conference is the decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from casework.choices import Role
from casework.models import (
    AccessLog,
    ApprovalKind,
    ApprovalRequest,
    ApprovalState,
    Case,
    CaseState,
    Membership,
    NotificationKind,
    SupportPlan,
)
from casework.notifications.services import notify
from casework.services.cases import case_close, case_open_things
from casework.services.common import CaseChanged, InvalidTransition, log_change, require_lead
from casework.services.plans import plan_approve
from casework.viewers import Viewer, viewer_of

CLOSING_KINDS = {CaseState.CLOSED: ApprovalKind.CLOSURE, CaseState.SUSPENDED: ApprovalKind.SUSPENSION}
_SETTING = {
    ApprovalKind.CLOSURE: "APPROVAL_CLOSURE",
    ApprovalKind.SUSPENSION: "APPROVAL_SUSPENSION",
    ApprovalKind.PLAN: "APPROVAL_PLAN",
}


def approval_required(kind: str) -> bool:
    """Whether the municipality switched this approval on (read at every call: a test or restart changes it)."""
    return bool(getattr(settings, _SETTING[kind]))


def may_decide(viewer: Viewer, approval: ApprovalRequest, case: Case) -> bool:
    """A supervisor of the case's lead organization now (acting in that hat), who did not ask for it.

    After a lead hand-over the new lead's supervisors decide what is still pending: they carry the case.
    """
    return (
        case.lead_organization_id in viewer.organization_ids(Role.SUPERVISOR)
        and approval.requested_by_id != viewer.user.pk
    )


def supervisors_of(organization_id: int):
    """The users holding an active supervisor membership of the organization today."""
    from django.contrib.auth import get_user_model

    rows = Membership.objects.active().filter(
        organization_id=organization_id, role=Role.SUPERVISOR, user__is_active=True
    )
    return get_user_model().objects.filter(pk__in=rows.values("user_id")).order_by("id")


@dataclass
class Outcome:
    """What a closing or plan request did: applied at once (approval off) or waiting for a supervisor."""

    approval: ApprovalRequest | None = None
    case: Case | None = None
    plan: SupportPlan | None = None
    done: list[str] = field(default_factory=list)

    @property
    def waiting(self) -> bool:
        return self.approval is not None


def _tell_supervisors(approval: ApprovalRequest, case: Case, by) -> None:
    notify(
        kind=NotificationKind.APPROVAL_REQUESTED,
        summary=_("ケース %(number)s の%(kind)sについて決裁の申請があります。")
        % {"number": case.number, "kind": approval.get_kind_display()},
        by=by,
        users=list(supervisors_of(case.lead_organization_id)),
        case=case,
        target_type="approvalrequest",
        target_id=approval.pk,
        url=approval.get_absolute_url(),
    )


# ---------------------------------------------------------------------------
# Asking
# ---------------------------------------------------------------------------


@transaction.atomic
def case_close_or_request(
    *,
    case: Case,
    to_state: str,
    by,
    reason: str,
    choices: dict[str, str],
    expected_version: int | None = None,
    decided_by_label: str = "",
) -> Outcome:
    """Close or suspend the case at once (approval off) or record the request for a supervisor's 決裁.

    The request is checked exactly as the closure would be (the move allowed, a reason, a choice for
    every open thing) so that approving it can apply it; nothing on the case changes until then.
    """
    kind = CLOSING_KINDS.get(to_state)
    if kind is None or not approval_required(kind):
        closed, done = case_close(
            case=case,
            to_state=to_state,
            by=by,
            reason=reason,
            choices=choices,
            expected_version=expected_version,
            decided_by_label=decided_by_label,
        )
        return Outcome(case=closed, done=done)
    return Outcome(
        approval=approval_request_closing(
            case=case,
            to_state=to_state,
            by=by,
            reason=reason,
            choices=choices,
            expected_version=expected_version,
            decided_by_label=decided_by_label,
        ),
        case=case,
    )


@transaction.atomic
def approval_request_closing(
    *,
    case: Case,
    to_state: str,
    by,
    reason: str,
    choices: dict[str, str],
    expected_version: int | None = None,
    decided_by_label: str = "",
) -> ApprovalRequest:
    """Ask the lead organization's supervisors to approve closing or suspending the case, as chosen."""
    locked = Case.objects.select_for_update().select_related("lead_organization").get(pk=case.pk)
    if expected_version is not None and locked.version != expected_version:
        raise CaseChanged()
    require_lead(by, locked)
    label = dict(CaseState.choices)
    kind = CLOSING_KINDS.get(to_state)
    allowed = {t.target for t in locked.get_available_state_transitions()}
    if kind is None or to_state not in allowed:
        raise InvalidTransition(
            _("「%(from)s」から「%(to)s」へは変更できません。")
            % {"from": label[locked.state], "to": label.get(to_state, to_state)}
        )
    reason = (reason or "").strip()
    if not reason:
        raise InvalidTransition(_("「%(to)s」にするには理由が必要です。") % {"to": label[to_state]})
    if ApprovalRequest.objects.filter(
        case=locked, kind__in=CLOSING_KINDS.values(), state=ApprovalState.PENDING
    ).exists():
        raise InvalidTransition(_("このケースにはすでに決裁待ちの終結・中断の申請があります。"))
    things = case_open_things(locked, by)
    missing = [t for t in things if choices.get(t.key) not in {value for value, _label in t.choices}]
    if missing:
        raise InvalidTransition(
            _("終結・中断の前に、残っている次のものの扱いを選んでください: %(things)s")
            % {"things": "、".join(f"{t.kind_label}（{t.text}）" for t in missing)}
        )
    items = [
        {
            "key": t.key,
            "kind_label": str(t.kind_label),
            "text": str(t.text),
            "choice": choices[t.key],
            "choice_label": str(dict(t.choices)[choices[t.key]]),
        }
        for t in things
    ]
    approval = ApprovalRequest.objects.create(
        case=locked,
        organization=locked.lead_organization,
        kind=kind,
        requested_by=by,
        reason=reason,
        decided_by_label=(decided_by_label or "").strip(),
        payload={
            "to_state": to_state,
            "choices": {t.key: choices[t.key] for t in things},
            "items": items,
            "case_version": locked.version,
        },
    )
    log_change(by, action=AccessLog.Action.CREATE, obj=approval, person_ids=[], case=locked)
    _tell_supervisors(approval, locked, by)
    return approval


@transaction.atomic
def plan_approve_or_request(*, plan: SupportPlan, by, decided_by_label: str = "") -> Outcome:
    """Approve the plan at once (approval off) or ask the lead organization's supervisors for their 決裁."""
    if not approval_required(ApprovalKind.PLAN):
        approved = plan_approve(plan=plan, by=by, decided_by_label=decided_by_label)
        return Outcome(plan=approved)
    return Outcome(approval=approval_request_plan(plan=plan, by=by, decided_by_label=decided_by_label), plan=plan)


@transaction.atomic
def approval_request_plan(*, plan: SupportPlan, by, decided_by_label: str = "") -> ApprovalRequest:
    """Ask the lead organization's supervisors to approve a draft or proposed plan; the plan waits unchanged."""
    case = Case.objects.select_for_update().select_related("lead_organization").get(pk=plan.case_id)
    require_lead(by, case)
    plan = SupportPlan.objects.select_for_update().get(pk=plan.pk)
    if plan.status not in {SupportPlan.Status.DRAFT, SupportPlan.Status.PROPOSED}:
        raise ValidationError(_("このプランはすでに承認済みか終了しています。"))
    if ApprovalRequest.objects.filter(plan=plan, state=ApprovalState.PENDING).exists():
        raise ValidationError(_("このプランはすでに決裁待ちです。"))
    approval = ApprovalRequest.objects.create(
        case=case,
        organization=case.lead_organization,
        kind=ApprovalKind.PLAN,
        plan=plan,
        requested_by=by,
        decided_by_label=(decided_by_label or "").strip(),
        payload={"plan_version": plan.version},
    )
    log_change(by, action=AccessLog.Action.CREATE, obj=approval, person_ids=[], case=case)
    _tell_supervisors(approval, case, by)
    return approval


def pending_closing_request(case: Case) -> ApprovalRequest | None:
    """The case's 終結・中断 request waiting for a supervisor, if any."""
    return (
        ApprovalRequest.objects.filter(case=case, kind__in=CLOSING_KINDS.values(), state=ApprovalState.PENDING)
        .select_related("requested_by")
        .first()
    )


def plan_awaits_approval(plan: SupportPlan) -> bool:
    """Whether a 決裁 is pending on the plan (its content is then frozen until approved or sent back)."""
    return ApprovalRequest.objects.filter(plan=plan, state=ApprovalState.PENDING).exists()


# ---------------------------------------------------------------------------
# Deciding
# ---------------------------------------------------------------------------


def _decided_label(approval: ApprovalRequest, by) -> str:
    asked = approval.decided_by_label
    text = _("決裁（申請: %(req)s／承認: %(by)s）") % {
        "req": _staff_name(approval.requested_by),
        "by": _staff_name(by),
    }
    return f"{asked} {text}".strip()[:200]


def _staff_name(user) -> str:
    name = f"{user.last_name} {user.first_name}".strip()
    return name or user.username


@transaction.atomic
def approval_decide(*, approval: ApprovalRequest, by, approve: bool, comment: str = "") -> ApprovalRequest:
    """Approve (apply exactly what was asked, here) or send back (change nothing) one 決裁; tell the requester.

    Only a supervisor of the case's lead organization who is not the requester decides. Two supervisors
    deciding at once: the request row is locked, the second finds it decided and is refused.
    """
    locked = (
        ApprovalRequest.objects.select_for_update(of=("self",))
        .select_related("requested_by", "plan")
        .get(pk=approval.pk)
    )
    if not locked.is_pending:
        raise ValidationError(
            _("この申請はすでに決裁されています（%(state)s）。") % {"state": locked.get_state_display()}
        )
    if locked.requested_by_id == by.pk:
        raise PermissionDenied(_("ご自身の申請は決裁できません。別のスーパーバイザーが決裁します。"))
    case = Case.objects.select_related("lead_organization").get(pk=locked.case_id)
    if not may_decide(viewer_of(by), locked, case):
        raise PermissionDenied(_("この申請は主担当機関のスーパーバイザーだけが決裁できます。"))
    comment = (comment or "").strip()
    if not approve and not comment:
        raise ValidationError({"comment": _("差し戻す理由をコメントに入力してください。")})
    if approve:
        label = _decided_label(locked, by)
        ref = f"approval:{locked.pk}"
        if locked.kind == ApprovalKind.PLAN:
            plan_approve(plan=locked.plan, by=by, decided_by_label=label, decided_by_ref=ref, approval=locked)
        else:
            case_close(
                case=case,
                to_state=locked.to_state,
                by=by,
                reason=locked.reason,
                choices=locked.payload.get("choices", {}),
                decided_by_label=label,
                decided_by_ref=ref,
                approval=locked,
            )
        locked.approve()
    else:
        locked.send_back()
    locked.decided_by = by
    locked.decided_at = timezone.now()
    locked.comment = comment
    locked.save(update_fields=["state", "decided_by", "decided_at", "comment"])
    log_change(by, action=AccessLog.Action.CHANGE, obj=locked, person_ids=[], case=case)
    summary = (
        _("ケース %(number)s の%(kind)sは承認されました。")
        if approve
        else _("ケース %(number)s の%(kind)sは差し戻されました。コメントを確認してください。")
    ) % {"number": case.number, "kind": locked.get_kind_display()}
    notify(
        kind=NotificationKind.APPROVAL_DECIDED,
        summary=summary,
        by=by,
        users=[locked.requested_by],
        case=case,
        target_type="approvalrequest",
        target_id=locked.pk,
        url=f"{case.get_absolute_url()}#approvals",
    )
    return locked
