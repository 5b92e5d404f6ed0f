"""Writes for meetings: every one locks the meeting, bumps its version and broadcasts after commit."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm

from casework import audit, disclosure, live
from casework.choices import Role
from casework.live import meeting_group, send_event_on_commit
from casework.models import (
    AccessLog,
    Case,
    CaseState,
    CaseSubject,
    Membership,
    NotificationKind,
    Organization,
    SupportPlan,
)
from casework.notifications.services import notify
from casework.services.cases import case_transition
from casework.services.common import InvalidTransition
from casework.services.plans import plan_approve, plan_set_next_review
from casework.viewers import viewer_of
from core.japanese import format_wareki
from meetings.access import action_actor_organization, item_basis, layered_consents, lead_participates
from meetings.models import (
    ActionItem,
    ActionItemEvent,
    AgendaItem,
    AgendaPurpose,
    CaseProposal,
    Decision,
    Meeting,
    MeetingKind,
    MeetingParticipant,
    MeetingPresence,
    MeetingStatus,
)
from meetings.selectors import queue_cases, reviews_due

logger = logging.getLogger(__name__)

MEETING_PERMISSIONS = ("meetings.view_meeting",)


class StaleEdit(Exception):
    """An edit based on an older version: refused, carrying the current state so nothing is overwritten."""

    message = "他の参加者が先に更新しました。最新の内容を確認してから、もう一度保存してください。"

    def __init__(
        self,
        *,
        version: int,
        notes: str = "",
        meeting_version: int | None = None,
        summary: str = "",
        purpose: str = "",
    ):
        super().__init__(self.message)
        self.version = version
        self.notes = notes
        self.meeting_version = meeting_version
        self.summary = summary
        self.purpose = purpose

    @property
    def purpose_label(self) -> str:
        return AgendaPurpose(self.purpose).label if self.purpose in AgendaPurpose.values else ""

    def __str__(self) -> str:
        return self.message


# ---------------------------------------------------------------------------
# Broadcasting: only these services send, and only after commit
# ---------------------------------------------------------------------------


def _broadcast(meeting: Meeting, what: str) -> None:
    send_event_on_commit(
        meeting_group(meeting.pk), {"type": live.MEETING_CHANGED, "version": meeting.version, "what": what}
    )


def _broadcast_presence(meeting_id: int) -> None:
    """Tell the meeting's clients that who is connected changed (not a change of the meeting itself)."""
    version = Meeting.objects.filter(pk=meeting_id).values_list("version", flat=True).first() or 0
    send_event_on_commit(
        meeting_group(meeting_id), {"type": live.MEETING_CHANGED, "version": version, "what": "presence"}
    )


# ---------------------------------------------------------------------------
# Guards
# ---------------------------------------------------------------------------


def _lock(meeting: Meeting) -> Meeting:
    """Lock the meeting row so versions move one at a time; refuse once the minutes are locked."""
    locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if locked.status == MeetingStatus.MINUTES_LOCKED:
        raise ValidationError(_("議事録が確定しているため、この会議は変更できません。"))
    if locked.status == MeetingStatus.CANCELLED:
        raise ValidationError(_("中止した会議は変更できません。"))
    return locked


def _bump(meeting: Meeting, what: str, *fields: str) -> Meeting:
    meeting.version += 1
    meeting.save(update_fields=["version", *fields])
    _broadcast(meeting, what)
    return meeting


def _require_chair(meeting: Meeting, by, *, secretary_too: bool = False) -> None:
    allowed = {meeting.chair_id}
    if secretary_too and meeting.secretary_id:
        allowed.add(meeting.secretary_id)
    if by.pk not in allowed:
        raise PermissionError(_("この操作は議長（または書記）だけができます。"))


def _require_material(meeting: Meeting, by) -> MeetingParticipant:
    """Refuse anyone who is not an active participant or (支援会議) has no pledge."""
    participant = MeetingParticipant.objects.filter(
        meeting=meeting, user=by, removed_at__isnull=True, user__is_active=True
    ).first()
    if participant is None:
        raise PermissionError(_("この会議の参加者ではありません。"))
    if meeting.kind == MeetingKind.SUPPORT_MEETING and not participant.has_pledge:
        raise PermissionError(_("守秘義務の誓約が記録されていません。"))
    return participant


def _log(by, meeting: Meeting, *, action: str, obj, person_ids=(), basis=None, basis_ref="", org_id=None) -> None:
    if basis is None:
        basis = (
            AccessLog.Basis.SUPPORT_MEETING if meeting.kind == MeetingKind.SUPPORT_MEETING else AccessLog.Basis.CONSENT
        )
        basis_ref = basis_ref or str(meeting.pk)
    audit.log_access(
        actor=by,
        action=action,
        object_type=obj._meta.model_name,
        object_id=obj.pk,
        person_ids=person_ids,
        basis=basis,
        basis_ref=basis_ref,
        organization_id=org_id,
    )


def _require_basis(item: AgendaItem) -> None:
    """Refuse changes to an item whose case the meeting may no longer show (consent withdrawn or expired)."""
    basis = item_basis(item)
    if not basis.allowed:
        raise ValidationError([_("本人同意が確認できないため、この議題は変更できません。"), *basis.problems])


def _clean_text(value: str, field: str) -> str:
    """Refuse text the database or a screen cannot hold faithfully (it may come over the socket too)."""
    if "\x00" in value or "\ufffd" in value or any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        raise ValidationError({field: _("使用できない文字が含まれています。")})
    return value


def _membership_org(user, organization: Organization | None = None, *, prefer: Organization | None = None):
    """Return the organization the user takes part for: the one named, else the only one, else the hat in use.

    Never "the first membership": a user with several organizations is asked which one (the signed-in
    user acts in the hat chosen in the header; a meeting's chair or secretary for the convening
    organization when they belong to it).
    """
    # Only a case-working membership backs a seat (meetings.access.active_participations).
    memberships = (
        Membership.objects.active()
        .filter(user=user, role__in=(Role.CASEWORKER, Role.SUPERVISOR))
        .select_related("organization")
        .order_by("id")
    )
    name = user.get_full_name() or user
    if organization is not None:
        membership = memberships.filter(organization=organization).first()
        if membership is None:
            raise ValidationError(_("%(name)s はその機関に所属していません。") % {"name": name})
        return membership.organization
    organizations = list(dict.fromkeys(m.organization for m in memberships))
    if not organizations:
        raise ValidationError(_("%(name)s はその機関に所属していません。") % {"name": name})
    if len(organizations) == 1:
        return organizations[0]
    viewer = viewer_of(user)
    if viewer.session is not None and viewer.memberships and viewer.memberships[0].organization in organizations:
        return viewer.memberships[0].organization
    if prefer is not None and prefer in organizations:
        return prefer
    raise ValidationError(
        _("%(name)s は複数の機関に所属しています。どの機関として参加するかを選んでください。") % {"name": name}
    )


# ---------------------------------------------------------------------------
# Meetings and participants
# ---------------------------------------------------------------------------


@transaction.atomic
def meeting_create(
    *,
    kind: str,
    title: str,
    starts_at: datetime,
    convened_by: Organization,
    chair,
    by,
    secretary=None,
    place: str = "",
    online_url: str = "",
) -> Meeting:
    """Schedule a meeting; the chair and secretary become participants."""
    if kind == MeetingKind.SUPPORT_MEETING and convened_by.kind != Organization.Kind.MUNICIPAL:
        raise ValidationError({"convened_by": _("支援会議は市町村が招集します。市町村の機関を選んでください。")})
    meeting = Meeting(
        kind=kind,
        title=title,
        starts_at=starts_at,
        convened_by=convened_by,
        chair=chair,
        secretary=secretary,
        place=place,
        online_url=online_url,
        created_by=by,
    )
    meeting.full_clean(exclude=["status", "current_item"])
    meeting.save()
    for user in dict.fromkeys(u for u in (chair, secretary) if u is not None):
        _participant_add(meeting, user, _membership_org(user, prefer=convened_by), by)
    _log(by, meeting, action=AccessLog.Action.CREATE, obj=meeting, basis=AccessLog.Basis.OWN_ORGANIZATION)
    _notify_invited(meeting, [secretary], by)
    return meeting


def _when(meeting: Meeting) -> str:
    local = timezone.localtime(meeting.starts_at)
    return f"{format_wareki(local.date())} {local:%H:%M}"


def _notify_meeting(meeting: Meeting, *, kind: str, summary: str, users, by) -> None:
    """Tell users about a meeting: its number, kind and date only (its title is free text and may name someone)."""
    notify(
        kind=kind,
        summary=summary,
        by=by,
        users=[u for u in users if u is not None],
        target_type="meeting",
        target_id=meeting.pk,
        url=meeting.get_absolute_url(),
    )


def _notify_invited(meeting: Meeting, users, by) -> None:
    _notify_meeting(
        meeting,
        kind=NotificationKind.MEETING_INVITED,
        summary=_("会議 #%(id)s（%(kind)s、%(when)s）の参加者に加えられました。")
        % {"id": meeting.pk, "kind": meeting.get_kind_display(), "when": _when(meeting)},
        users=users,
        by=by,
    )


def _participant_users(meeting: Meeting) -> list:
    return [p.user for p in meeting.participants.filter(removed_at__isnull=True).select_related("user")]


def _participant_add(meeting: Meeting, user, organization: Organization, by) -> MeetingParticipant:
    participant = MeetingParticipant.objects.filter(meeting=meeting, user=user, removed_at__isnull=True).first()
    if participant is None:
        participant = MeetingParticipant.objects.create(
            meeting=meeting, user=user, organization=organization, added_by=by
        )
    for perm in MEETING_PERMISSIONS:
        assign_perm(perm, organization.group, meeting)
    return participant


@transaction.atomic
def meeting_participant_add(*, meeting: Meeting, user, by, organization: Organization | None = None):
    """Add a user (for one of their organizations) to the meeting."""
    meeting = _lock(meeting)
    _require_chair(meeting, by, secretary_too=True)
    if not user.is_active:
        raise ValidationError(_("無効なアカウントは参加者にできません。"))
    organization = _membership_org(user, organization)
    already = MeetingParticipant.objects.filter(meeting=meeting, user=user, removed_at__isnull=True).exists()
    participant = _participant_add(meeting, user, organization, by)
    _bump(meeting, "participants")
    if not already:
        _notify_invited(meeting, [user], by)
    return participant


@transaction.atomic
def meeting_participant_remove(*, participant: MeetingParticipant, by) -> MeetingParticipant:
    """Remove a participant: their pages and live connection stop at once."""
    meeting = _lock(participant.meeting)
    _require_chair(meeting, by, secretary_too=True)
    if participant.user_id == meeting.chair_id:
        raise ValidationError(_("議長は参加者から外せません。"))
    MeetingParticipant.objects.filter(pk=participant.pk).update(removed_at=timezone.now())
    MeetingPresence.objects.filter(meeting=meeting, user_id=participant.user_id).delete()
    _bump(meeting, "participants")
    user_id, meeting_id = participant.user_id, meeting.pk
    send_event_on_commit(meeting_group(meeting_id), {"type": live.MEETING_PARTICIPANT_REMOVED, "user_id": user_id})
    participant.refresh_from_db()
    return participant


@transaction.atomic
def meeting_reschedule(*, meeting: Meeting, starts_at: datetime, place: str, by) -> Meeting:
    """Move a scheduled meeting to another date or place (chair or secretary); every participant is told."""
    meeting = _lock(meeting)
    _require_chair(meeting, by, secretary_too=True)
    if meeting.status != MeetingStatus.SCHEDULED:
        raise ValidationError(_("予定の会議だけ日時・会場を変更できます。"))
    place = _clean_text(place, "place")
    if meeting.starts_at == starts_at and meeting.place == place:
        return meeting
    meeting.starts_at = starts_at
    meeting.place = place
    meeting.full_clean(exclude=["status", "current_item"])
    _bump(meeting, "schedule", "starts_at", "place")
    _log(by, meeting, action=AccessLog.Action.CHANGE, obj=meeting, basis=AccessLog.Basis.OWN_ORGANIZATION)
    _notify_meeting(
        meeting,
        kind=NotificationKind.MEETING_RESCHEDULED,
        summary=_("会議 #%(id)s（%(kind)s）の日時・会場が変わりました。新しい日時: %(when)s")
        % {"id": meeting.pk, "kind": meeting.get_kind_display(), "when": _when(meeting)},
        users=_participant_users(meeting),
        by=by,
    )
    return meeting


@transaction.atomic
def meeting_cancel(*, meeting: Meeting, reason: str, by) -> Meeting:
    """Cancel a scheduled meeting (chair only) with a reason; every participant is told (not the reason)."""
    meeting = _lock(meeting)
    _require_chair(meeting, by)
    if meeting.status != MeetingStatus.SCHEDULED:
        raise ValidationError(_("予定の会議だけを中止できます。"))
    reason = _clean_text(reason, "cancelled_reason").strip()
    if not reason:
        raise ValidationError({"reason": _("中止の理由を入力してください。")})
    meeting.cancel()
    meeting.cancelled_reason = reason[:200]
    _bump(meeting, "status", "status", "cancelled_reason")
    _log(by, meeting, action=AccessLog.Action.TRANSITION, obj=meeting, basis=AccessLog.Basis.OWN_ORGANIZATION)
    _notify_meeting(
        meeting,
        kind=NotificationKind.MEETING_CANCELLED,
        summary=_("会議 #%(id)s（%(kind)s、%(when)s）は中止になりました。")
        % {"id": meeting.pk, "kind": meeting.get_kind_display(), "when": _when(meeting)},
        users=_participant_users(meeting),
        by=by,
    )
    return meeting


@transaction.atomic
def participant_attendance_record(*, participant: MeetingParticipant, attended: bool, by) -> MeetingParticipant:
    """Record at the meeting whether a participant attended (the chair or secretary; not after the minutes lock)."""
    meeting = _lock(participant.meeting)
    _require_chair(meeting, by, secretary_too=True)
    participant = MeetingParticipant.objects.select_for_update().get(pk=participant.pk)
    if participant.removed_at is not None:
        raise ValidationError(_("この参加者は会議から外れています。"))
    if participant.attended != attended:
        participant.attended = attended
        participant.save(update_fields=["attended"])
        _bump(meeting, "participants")
    return participant


@transaction.atomic
def pledge_record(*, participant: MeetingParticipant, by, signed_on: date | None = None) -> MeetingParticipant:
    """Record a 守秘義務 pledge: the participant themselves, or the chair or secretary for a paper pledge."""
    meeting = _lock(participant.meeting)
    if by.pk != participant.user_id:
        _require_chair(meeting, by, secretary_too=True)
    participant = MeetingParticipant.objects.select_for_update().get(pk=participant.pk)
    if participant.removed_at is not None:
        raise ValidationError(_("この参加者は会議から外れています。"))
    participant.pledge_signed_on = signed_on or timezone.localdate()
    participant.pledge_recorded_by = by
    participant.save(update_fields=["pledge_signed_on", "pledge_recorded_by"])
    _bump(meeting, "participants")
    return participant


@transaction.atomic
def meeting_start(*, meeting: Meeting, by) -> Meeting:
    """Open the session (予定 → 開催中)."""
    meeting = _lock(meeting)
    _require_chair(meeting, by)
    if meeting.status != MeetingStatus.SCHEDULED:
        raise ValidationError(_("予定の会議だけを開始できます。"))
    meeting.start()
    if meeting.current_item_id is None:
        meeting.current_item = meeting.items.order_by("order", "id").first()
    return _bump(meeting, "status", "status", "current_item")


@transaction.atomic
def meeting_conclude(*, meeting: Meeting, by) -> Meeting:
    """Close the session (開催中 → 終了); the minutes can then be approved."""
    meeting = _lock(meeting)
    _require_chair(meeting, by)
    if meeting.status not in {MeetingStatus.SCHEDULED, MeetingStatus.IN_SESSION}:
        raise ValidationError(_("この会議はすでに終了しています。"))
    meeting.conclude()
    return _bump(meeting, "status", "status")


@transaction.atomic
def minutes_approve(*, meeting: Meeting, by) -> Meeting:
    """Approve and lock the minutes: afterwards nothing of the meeting changes."""
    meeting = _lock(meeting)
    _require_chair(meeting, by)
    if meeting.status != MeetingStatus.CONCLUDED:
        raise ValidationError(_("会議を終了してから議事録を確定してください。"))
    meeting.lock_minutes()
    meeting.minutes_approved_at = timezone.now()
    meeting.minutes_approved_by = by
    return _bump(meeting, "status", "status", "minutes_approved_at", "minutes_approved_by")


# ---------------------------------------------------------------------------
# The agenda
# ---------------------------------------------------------------------------


@dataclass
class GateAnswer:
    """Whether a case may go on the meeting's agenda, why not, and what to warn about."""

    allowed: bool
    problems: list[str]
    warnings: list[str]
    consent_ids: list[int]


def agenda_gate(*, meeting: Meeting, case: Case) -> GateAnswer:
    """Check the meeting's legal rule for a case: 支援会議 may take any; 重層的支援会議 needs consent."""
    if meeting.kind == MeetingKind.SUPPORT_MEETING:
        return GateAnswer(True, [], [], [])
    ids, problems, _persons = layered_consents(case, meeting.meeting_date)
    warnings = []
    today = timezone.localdate()
    if problems and today < meeting.meeting_date:
        # Valid today but not on the meeting day: say that the consent runs out first.
        ids_today, problems_today, _p = layered_consents(case, today)
        if not problems_today:
            warnings.append(_("同意の有効期限が会議日（%(d)s）より前に切れます。") % {"d": meeting.meeting_date})
    return GateAnswer(not problems, problems, warnings, ids)


# ---------------------------------------------------------------------------
# Proposals: a case reaches an agenda only when an organization that holds it asks
# ---------------------------------------------------------------------------

PROPOSAL_REASON_MAX = 1000


def _proposer_basis(case: Case, by):
    """Return the proposer's basis on the case (lead or team organization with access), or refuse."""
    basis = disclosure.case_basis(by, case, disclosure.Purpose.CHANGE_CASE)
    if basis is None or basis.organization_id is None:
        raise PermissionError(_("このケースを会議に提案できるのは、主担当機関またはケースチームの機関だけです。"))
    return basis


@transaction.atomic
def case_propose(*, case: Case, kind: str, purpose: str, by, reason: str = "") -> CaseProposal:
    """Propose a case for a 支援会議 or 重層的支援会議 (its lead or a team organization with access)."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    basis = _proposer_basis(case, by)
    if kind not in MeetingKind.values:
        raise ValidationError({"kind": _("会議の種類を選んでください。")})
    if purpose not in AgendaPurpose.values:
        raise ValidationError({"purpose": _("目的を選んでください。")})
    reason = _clean_text((reason or "").strip(), "reason")
    if len(reason) > PROPOSAL_REASON_MAX:
        raise ValidationError({"reason": _("理由は%(n)s文字以内で書いてください。") % {"n": PROPOSAL_REASON_MAX}})
    if CaseProposal.objects.filter(case=case, kind=kind, state=CaseProposal.State.PROPOSED).exists():
        raise ValidationError(_("このケースはすでに%(k)sに提案されています。") % {"k": MeetingKind(kind).label})
    proposal = CaseProposal(
        case=case, kind=kind, purpose=purpose, reason=reason, organization_id=basis.organization_id, proposed_by=by
    )
    proposal.full_clean(exclude=["item", "closed_by"])
    proposal.save()
    _log_proposal(by, proposal, basis, AccessLog.Action.CREATE)
    return proposal


def _log_proposal(by, proposal: CaseProposal, basis, action: str) -> None:
    audit.log_access(
        actor=by,
        action=action,
        object_type="caseproposal",
        object_id=proposal.pk,
        basis=basis.kind,
        basis_ref=basis.ref,
        organization_id=basis.organization_id,
    )


@transaction.atomic
def case_proposal_withdraw(*, proposal: CaseProposal, by) -> CaseProposal:
    """Withdraw an open proposal (the proposing organization or the lead organization)."""
    proposal = CaseProposal.objects.select_for_update().select_related("case").get(pk=proposal.pk)
    basis = _proposer_basis(proposal.case, by)
    if basis.organization_id not in {proposal.organization_id, proposal.case.lead_organization_id}:
        raise PermissionError(_("提案を取り下げられるのは、提案した機関または主担当機関だけです。"))
    if proposal.state != CaseProposal.State.PROPOSED:
        raise ValidationError(_("この提案はすでに採用または取り下げられています。"))
    proposal.state = CaseProposal.State.WITHDRAWN
    proposal.closed_at = timezone.now()
    proposal.closed_by = by
    proposal.save(update_fields=["state", "closed_at", "closed_by"])
    _log_proposal(by, proposal, basis, AccessLog.Action.CHANGE)
    return proposal


def _in_queue(meeting: Meeting, case: Case) -> bool:
    """Whether the case was put forward for this kind of meeting: proposed, plan proposed, or review due."""

    return queue_cases(meeting, lead_org_ids=None).filter(pk=case.pk).exists() or (
        AgendaItem.objects.filter(meeting=meeting, case=case).exists()
    )


@transaction.atomic
def agenda_item_add(*, meeting: Meeting, case: Case, purpose: str, by, summary: str | None = None) -> AgendaItem:
    """Put a case from the queue on the agenda; its lead must take part, and a 重層的支援会議 needs consent."""
    meeting = _lock(meeting)
    _require_chair(meeting, by)
    participant = _require_material(meeting, by)
    if purpose not in AgendaPurpose.values:
        raise ValidationError({"purpose": _("目的を選んでください。")})
    if meeting.status not in {MeetingStatus.SCHEDULED, MeetingStatus.IN_SESSION}:
        raise ValidationError(_("終了した会議には議題を追加できません。"))
    if not _in_queue(meeting, case):
        # The same answer whatever the case is: nothing about a case nobody proposed is confirmed.
        raise ValidationError(_("提案されたケース・見直し期限のケースの一覧から選んでください。"))
    if not lead_participates(meeting, case, pledged=False):
        raise ValidationError(
            _(
                "主担当機関（%(org)s）の職員が会議の参加者にいないため、このケースは議題にできません。先に参加者に追加してください。"
            )
            % {"org": case.lead_organization}
        )
    if AgendaItem.objects.filter(meeting=meeting, case=case, purpose=purpose).exists():
        raise ValidationError(_("このケースは同じ目的ですでに議題にあります。"))
    gate = agenda_gate(meeting=meeting, case=case)
    if not gate.allowed:
        raise ValidationError(
            [
                _("このケースは重層的支援会議の議題にできません（本人同意が確認できません）。"),
                *gate.problems,
                *gate.warnings,
            ]
        )
    last = meeting.items.order_by("-order").values_list("order", flat=True).first() or 0
    item = AgendaItem.objects.create(
        meeting=meeting,
        case=case,
        purpose=purpose,
        order=last + 1,
        summary=case.summary if summary is None else summary,
        consent_ids=gate.consent_ids,
        added_by=by,
    )
    CaseProposal.objects.filter(case=case, kind=meeting.kind, state=CaseProposal.State.PROPOSED).update(
        state=CaseProposal.State.TAKEN, item=item, closed_at=timezone.now(), closed_by=by
    )
    basis = item_basis(item, on=timezone.localdate())
    _log(
        by,
        meeting,
        action=AccessLog.Action.CREATE,
        obj=item,
        person_ids=basis.person_ids,
        basis_ref=basis.basis_ref,
        org_id=participant.organization_id,
    )
    _bump(meeting, "agenda")
    return item


def cases_due_for_review(meeting: Meeting) -> list[Case]:
    """Return open cases led by a participating organization whose review falls due within the queue's window."""

    return list(reviews_due(meeting).exclude(meeting_items__meeting=meeting).order_by("next_review_on", "id"))


@transaction.atomic
def agenda_from_due_reviews(*, meeting: Meeting, by) -> tuple[list[AgendaItem], list[str]]:
    """Add every case due for review (経過評価); return the items added and why others were left out."""
    added, skipped = [], []
    for case in cases_due_for_review(meeting):
        try:
            with transaction.atomic():
                added.append(agenda_item_add(meeting=meeting, case=case, purpose=AgendaPurpose.PROGRESS_REVIEW, by=by))
        except ValidationError as exc:
            skipped.append(f"{case.number}: {' '.join(exc.messages)}")
    return added, skipped


@transaction.atomic
def agenda_reorder(*, meeting: Meeting, item_ids: list[int], by) -> Meeting:
    """Put the agenda in the given order (every item exactly once)."""
    meeting = _lock(meeting)
    _require_chair(meeting, by)
    items = {item.pk: item for item in meeting.items.all()}
    if sorted(item_ids) != sorted(items):
        raise ValidationError(_("議題の並びが最新ではありません。画面を更新してください。"))
    for position, pk in enumerate(item_ids, start=1):
        if items[pk].order != position:
            AgendaItem.objects.filter(pk=pk).update(order=position)
    return _bump(meeting, "agenda")


@transaction.atomic
def agenda_move(*, item: AgendaItem, direction: int, by) -> Meeting:
    """Move one item up (-1) or down (+1)."""
    ids = list(item.meeting.items.order_by("order", "id").values_list("pk", flat=True))
    i = ids.index(item.pk)
    j = max(0, min(len(ids) - 1, i + direction))
    ids[i], ids[j] = ids[j], ids[i]
    return agenda_reorder(meeting=item.meeting, item_ids=ids, by=by)


@transaction.atomic
def agenda_set_current(*, meeting: Meeting, item: AgendaItem | None, by) -> Meeting:
    """Make an item the one under discussion; every screen follows."""
    meeting = _lock(meeting)
    _require_chair(meeting, by)
    if meeting.status not in {MeetingStatus.SCHEDULED, MeetingStatus.IN_SESSION}:
        raise ValidationError(_("終了した会議の議題は切り替えられません。"))
    if item is not None and item.meeting_id != meeting.pk:
        raise ValidationError(_("この会議の議題ではありません。"))
    meeting.current_item = item
    return _bump(meeting, "current", "current_item")


def agenda_next_item(meeting: Meeting, items: list[AgendaItem] | None = None) -> AgendaItem | None:
    """Return the item after the current one (the first when none is current); items: the agenda in order, if read."""
    items = list(meeting.items.order_by("order", "id")) if items is None else items
    if not items:
        return None
    if meeting.current_item_id is None:
        return items[0]
    ids = [i.pk for i in items]
    position = ids.index(meeting.current_item_id) if meeting.current_item_id in ids else -1
    return items[position + 1] if position + 1 < len(items) else None


@transaction.atomic
def agenda_item_note(*, item: AgendaItem, notes: str, based_on_version: int, by) -> AgendaItem:
    """Save the secretary's notes for an item; an edit based on an older version raises StaleEdit."""
    meeting = _lock(item.meeting)
    _require_chair(meeting, by, secretary_too=True)
    participant = _require_material(meeting, by)
    notes = _clean_text(notes, "notes")
    current = AgendaItem.objects.select_for_update().get(pk=item.pk)
    current.meeting = meeting
    _require_basis(current)
    if current.version != based_on_version:
        raise StaleEdit(version=current.version, notes=current.notes, meeting_version=meeting.version)
    current.notes = notes
    current.version += 1
    current.save(update_fields=["notes", "version"])
    _log(
        by,
        meeting,
        action=AccessLog.Action.CHANGE,
        obj=current,
        person_ids=item_basis(current).person_ids,
        org_id=participant.organization_id,
    )
    _bump(meeting, "notes")
    return current


@transaction.atomic
def agenda_item_edit(*, item: AgendaItem, summary: str, purpose: str, based_on_version: int, by) -> AgendaItem:
    """Change an item's summary for the meeting and its purpose; an edit based on an older version raises StaleEdit."""
    meeting = _lock(item.meeting)
    _require_chair(meeting, by, secretary_too=True)
    participant = _require_material(meeting, by)
    summary = _clean_text(summary or "", "summary")
    if purpose not in AgendaPurpose.values:
        raise ValidationError({"purpose": _("目的を選んでください。")})
    current = AgendaItem.objects.select_for_update().get(pk=item.pk)
    current.meeting = meeting
    _require_basis(current)
    if current.version != based_on_version:
        raise StaleEdit(
            version=current.version,
            notes=current.notes,
            meeting_version=meeting.version,
            summary=current.summary,
            purpose=current.purpose,
        )
    if (
        purpose != current.purpose
        and AgendaItem.objects.filter(meeting=meeting, case_id=current.case_id, purpose=purpose).exists()
    ):
        raise ValidationError({"purpose": _("このケースは同じ目的ですでに議題にあります。")})
    current.summary = summary
    current.purpose = purpose
    current.version += 1
    current.save(update_fields=["summary", "purpose", "version"])
    _log(
        by,
        meeting,
        action=AccessLog.Action.CHANGE,
        obj=current,
        person_ids=item_basis(current).person_ids,
        org_id=participant.organization_id,
    )
    _bump(meeting, "agenda")
    return current


@transaction.atomic
def agenda_item_remove(*, item: AgendaItem, by) -> Meeting:
    """Take an item off the agenda (chair) while nothing has been decided or written on it."""
    meeting = _lock(item.meeting)
    _require_chair(meeting, by)
    participant = _require_material(meeting, by)
    if meeting.status not in {MeetingStatus.SCHEDULED, MeetingStatus.IN_SESSION}:
        raise ValidationError(_("終了した会議の議題は削除できません。"))
    current = AgendaItem.objects.select_for_update().filter(pk=item.pk, meeting=meeting).first()
    if current is None:
        raise ValidationError(_("この議題はすでに削除されています。"))
    if current.decisions.exists() or current.actions.exists():
        raise ValidationError(_("決定が記録された議題は削除できません。"))
    if current.notes.strip():
        # The secretary's notes are part of the record: removing the item would silently lose them.
        raise ValidationError(_("記録が書かれている議題は削除できません。"))
    current.meeting = meeting
    person_ids = item_basis(current).person_ids
    _log(
        by,
        meeting,
        action=AccessLog.Action.CHANGE,
        obj=current,
        person_ids=person_ids,
        org_id=participant.organization_id,
    )
    if meeting.current_item_id == current.pk:
        meeting.current_item = None
    current.delete()
    # Keep the numbering the minutes print without gaps.
    for position, pk in enumerate(meeting.items.order_by("order", "id").values_list("pk", flat=True), start=1):
        AgendaItem.objects.filter(pk=pk).exclude(order=position).update(order=position)
    return _bump(meeting, "agenda", "current_item")


# ---------------------------------------------------------------------------
# Decisions flow into casework through its services
# ---------------------------------------------------------------------------


def _plan_to_approve(case: Case, plan: SupportPlan | None) -> SupportPlan:
    if plan is None:
        plan = (
            case.plans.filter(status__in=[SupportPlan.Status.PROPOSED, SupportPlan.Status.DRAFT])
            .order_by("-version")
            .first()
        )
    if plan is None or plan.case_id != case.pk:
        raise ValidationError(_("承認できる支援プラン（作成中または提案中）がありません。"))
    return plan


# Decisions that change the case: applied only on a basis the disclosure module re-checks.
CASE_CHANGING_DECISIONS = {
    Decision.Kind.APPROVE_PLAN,
    Decision.Kind.CLOSE,
    Decision.Kind.SUSPEND,
    Decision.Kind.NEXT_REVIEW,
}


def _decision_basis(meeting: Meeting, case: Case, kind: str, by):
    """Return the meeting's basis to change the case (re-checked by casework), or refuse saying why."""
    if kind not in CASE_CHANGING_DECISIONS:
        return None
    basis = disclosure.meeting_decision_basis(by, case, meeting.decided_by_ref)
    if basis is not None:
        return basis
    if not lead_participates(meeting, case):
        raise ValidationError(
            _(
                "主担当機関（%(org)s）がこの会議に参加していない（支援会議では守秘義務の誓約も必要です）ため、"
                "この決定はケースに反映できません。"
            )
            % {"org": case.lead_organization}
        )
    raise ValidationError(_("この決定をケースに反映する根拠（会議の参加・本人同意）が確認できません。"))


@transaction.atomic
def meeting_decide(
    *,
    item: AgendaItem,
    kind: str,
    by,
    text: str = "",
    plan: SupportPlan | None = None,
    next_review_on: date | None = None,
    actions: list[dict] = (),
) -> Decision:
    """Record a decision on an item and apply it to the case with this meeting as the deciding body."""
    meeting = _lock(item.meeting)
    _require_chair(meeting, by, secretary_too=True)
    participant = _require_material(meeting, by)
    if meeting.status not in {MeetingStatus.SCHEDULED, MeetingStatus.IN_SESSION, MeetingStatus.CONCLUDED}:
        raise ValidationError(_("この会議では決定を記録できません。"))
    if kind not in Decision.Kind.values:
        raise ValidationError({"kind": _("決定の種類を選んでください。")})
    text = _clean_text((text or "").strip(), "text")
    item.meeting = meeting
    _require_basis(item)
    case = item.case
    decision = Decision(item=item, kind=kind, text=text, by=by)
    label, ref = meeting.decided_by_label, meeting.decided_by_ref
    decided_in = _decision_basis(meeting, case, kind, by)
    try:
        if kind == Decision.Kind.APPROVE_PLAN:
            plan = _plan_to_approve(case, plan)
            plan_approve(
                plan=plan,
                by=by,
                decided_by_label=label,
                decided_by_ref=ref,
                approved_on=meeting.meeting_date,
                decided_in=decided_in,
            )
            decision.plan = plan
            decision.result_ref = f"plan:{plan.pk}"
            case.refresh_from_db()
            decision.result_note = _("支援プラン第%(v)s版を承認（ケースの状態: %(s)s）") % {
                "v": plan.version,
                "s": case.get_state_display(),
            }
        elif kind in {Decision.Kind.CLOSE, Decision.Kind.SUSPEND}:
            if not text:
                raise ValidationError({"text": _("終結・中断の理由を書いてください。")})
            target = CaseState.CLOSED if kind == Decision.Kind.CLOSE else CaseState.SUSPENDED
            case = case_transition(
                case=case,
                to_state=target,
                by=by,
                reason=text,
                decided_by_label=label,
                decided_by_ref=ref,
                decided_in=decided_in,
            )
            transition = case.transitions.order_by("-id").first()
            decision.result_ref = f"case_transition:{transition.pk}"
            decision.result_note = _("ケースを「%(s)s」にしました。") % {"s": case.get_state_display()}
        elif kind == Decision.Kind.NEXT_REVIEW:
            if next_review_on is None:
                raise ValidationError({"next_review_on": _("次回見直し日を入力してください。")})
            plan = plan_set_next_review(case=case, next_review_on=next_review_on, by=by, decided_in=decided_in)
            decision.next_review_on = next_review_on
            decision.plan = plan
            decision.result_note = _("次回見直し日を%(d)sに設定しました。") % {"d": format_wareki(next_review_on)}
        elif kind == Decision.Kind.ACTION:
            if not actions:
                raise ValidationError({"actions": _("担当機関と内容を入力してください。")})
        elif not text:
            raise ValidationError({"text": _("決定の内容を書いてください。")})
    except InvalidTransition as exc:
        raise ValidationError(str(exc)) from exc
    for action in actions:
        if action["organization"].kind == Organization.Kind.PLACE_OPERATOR:
            # Places are outside statutory secrecy and never see what a meeting decided about a case.
            raise ValidationError(
                {"actions": _("居場所の運営団体には対応事項を割り当てられません。紹介（参加支援）を使ってください。")}
            )
    decision.full_clean()
    decision.save()
    for action in actions:
        row = ActionItem(
            item=item,
            decision=decision,
            organization=action["organization"],
            assignee=action.get("assignee"),
            assignee_name=action.get("assignee_name", ""),
            text=action["text"],
            due_on=action.get("due_on"),
        )
        row.full_clean()
        row.save()
        notify(
            kind=NotificationKind.ACTION_ASSIGNED,
            summary=_("会議 #%(meeting)s で%(org)sに対応事項が割り当てられました。")
            % {"meeting": meeting.pk, "org": row.organization.name}
            + (_("期限: %(d)s") % {"d": format_wareki(row.due_on)} if row.due_on else ""),
            by=by,
            organizations=[row.organization],
            users=[row.assignee],
            case=item.case,
            target_type="action_item",
            target_id=row.pk,
            url=meeting.get_absolute_url(),
        )
    _log(
        by,
        meeting,
        action=AccessLog.Action.CHANGE,
        obj=decision,
        person_ids=item_basis(item).person_ids,
        org_id=participant.organization_id,
    )
    _bump(meeting, "decisions")
    return decision


# ---------------------------------------------------------------------------
# Action items: done and reopened by the assigned organization or the chair and secretary
# ---------------------------------------------------------------------------

ACTION_NOTE_MAX = 500


def _action_set_done(*, action: ActionItem, by, done: bool, note: str) -> ActionItem:
    # Lock the meeting first, as every other meeting write does, so versions move one at a time.
    meeting = Meeting.objects.select_for_update().get(pk=action.item.meeting_id)
    current = ActionItem.objects.select_for_update().select_related("item").get(pk=action.pk)
    current.item.meeting = meeting
    organization_id = action_actor_organization(by, current)
    if organization_id is None:
        raise PermissionError(_("この対応事項は、担当機関の職員または会議の議長・書記だけが更新できます。"))
    note = _clean_text((note or "").strip(), "note")
    if len(note) > ACTION_NOTE_MAX:
        raise ValidationError({"note": _("メモは%(n)s文字以内で書いてください。") % {"n": ACTION_NOTE_MAX}})
    if done and current.done:
        raise ValidationError(_("この対応事項はすでに完了になっています。"))
    if not done and not current.done:
        raise ValidationError(_("この対応事項は完了になっていません。"))
    if done:
        current.mark_done(by=by, note=note)
    else:
        current.reopen()
    current.save(update_fields=["done", "done_at", "done_by", "done_note"])
    ActionItemEvent.objects.create(
        action=current,
        kind=ActionItemEvent.Kind.DONE if done else ActionItemEvent.Kind.REOPENED,
        note=note,
        by=by,
        organization_id=organization_id,
        at=current.done_at or timezone.now(),
    )
    person_ids = CaseSubject.objects.filter(case_id=current.item.case_id).values_list("person_id", flat=True)
    _log(by, meeting, action=AccessLog.Action.CHANGE, obj=current, person_ids=list(person_ids), org_id=organization_id)
    # Follow-up usually happens after the minutes are locked; only an open meeting's screens follow live.
    if not meeting.is_locked:
        _bump(meeting, "actions")
    return current


@transaction.atomic
def action_item_mark_done(*, action: ActionItem, by, note: str = "") -> ActionItem:
    """Mark an action item done (完了), recording who, when and an optional note."""
    return _action_set_done(action=action, by=by, done=True, note=note)


@transaction.atomic
def action_item_reopen(*, action: ActionItem, by, note: str = "") -> ActionItem:
    """Reopen a done action item (未完了に戻す); the history keeps the earlier completion."""
    return _action_set_done(action=action, by=by, done=False, note=note)


# ---------------------------------------------------------------------------
# A case being closed: its open action items (registered in casework.closure)
# ---------------------------------------------------------------------------


def case_closure_actions(case: Case, by) -> list:
    """List the case's open action items for its closing form, with what the closing worker may do."""
    from casework.closure import OpenThing

    rows = (
        ActionItem.objects.filter(item__case=case, done=False)
        .select_related("item__meeting", "organization")
        .order_by("due_on", "id")
    )
    things = []
    for action in rows:
        may_update = action_actor_organization(by, action) is not None
        choices = [("done", _("終了にする（「ケースの終結・中断に伴い終了」と記録）"))] if may_update else []
        choices.append(("keep", _("未完了のまま残す") if may_update else _("担当機関に任せる（未完了のまま）")))

        def apply(choice: str, reason: str, by, action=action) -> str:
            if choice != "done":
                return ""
            action_item_mark_done(action=action, by=by, note=_("ケースの終結・中断に伴い終了"))
            return _("対応事項「%(text)s」を終了にしました。") % {"text": action.text[:30]}

        due = _("期限 %(d)s") % {"d": format_wareki(action.due_on)} if action.due_on else ""
        things.append(
            OpenThing(
                key=f"action:{action.pk}",
                kind_label=_("会議の対応事項"),
                text="・".join(p for p in [action.text[:60], str(action.organization), due] if p),
                choices=choices,
                apply=apply,
            )
        )
    return things


# ---------------------------------------------------------------------------
# Presence: who has the live agenda open (written for the socket, never by it)
# ---------------------------------------------------------------------------


# Presence writes run in autocommit, each statement on its own: a socket closing while the test database is
# flushed (or a table locked) must not hold one table's lock while it waits for another's.


def presence_join(*, meeting: Meeting, participant: MeetingParticipant, channel_name: str, by) -> int:
    """Log the subscription, show the user as connected and return the meeting's version."""
    meeting = Meeting.objects.get(pk=meeting.pk)
    audit.log_access(
        actor=by,
        action=AccessLog.Action.MEETING_SUBSCRIBE,
        object_type="meeting",
        object_id=meeting.pk,
        basis=(
            AccessLog.Basis.SUPPORT_MEETING if meeting.kind == MeetingKind.SUPPORT_MEETING else AccessLog.Basis.CONSENT
        ),
        basis_ref=meeting.pk,
        organization_id=participant.organization_id,
    )
    MeetingPresence.objects.update_or_create(channel_name=channel_name, defaults={"meeting": meeting, "user": by})
    _broadcast_presence(meeting.pk)
    return meeting.version


def presence_touch(*, meeting_id: int, channel_name: str) -> int:
    """Mark the socket as still there (a ping) and return the meeting's version."""
    MeetingPresence.objects.filter(channel_name=channel_name).update(last_seen=timezone.now())
    return Meeting.objects.filter(pk=meeting_id).values_list("version", flat=True).first() or 0


def presence_leave(*, meeting_id: int, channel_name: str) -> bool:
    """Remove the socket's presence row (again is a no-op) and tell the others when there was one."""
    removed = MeetingPresence.objects.filter(channel_name=channel_name).delete()[0] > 0
    if removed:
        _broadcast_presence(meeting_id)
    return removed


# ---------------------------------------------------------------------------
# 人事異動: open action items and meeting seats of a leaving worker (casework's hand-over screen)
# ---------------------------------------------------------------------------


def handover_action_items(organization, worker):
    """The open action items assigned to the worker for the organization (meeting, case number, due date)."""
    from casework.services.handover import HandoverItem

    actions = (
        ActionItem.objects.filter(organization=organization, assignee=worker, done=False)
        .select_related("item__meeting", "item__case")
        .order_by("due_on", "id")
    )
    items = []
    for action in actions:
        due = _("期限 %(d)s") % {"d": format_wareki(action.due_on)} if action.due_on else _("期限なし")
        items.append(
            HandoverItem(
                "action",
                action.pk,
                action.item.case_id,
                _("対応事項 #%(id)s") % {"id": action.pk},
                f"{action.item.meeting.title}・{action.item.case.number}・{due}",
            )
        )
    return items


def handover_action_reassign(item, *, organization, leaving, to, by) -> None:
    action = ActionItem.objects.select_for_update().select_related("item__meeting").get(pk=item.object_id)
    if action.assignee_id != leaving.pk or action.organization_id != organization.pk or action.done:
        raise ValidationError(_("%(label)s の担当者はすでに変わっています。") % {"label": item.label})
    action.assignee = to
    action.save(update_fields=["assignee"])
    _broadcast(action.item.meeting, "actions")


def handover_meeting_seats(organization, worker):
    """The meetings not yet closed where the worker takes part for the organization (chair, secretary or member)."""
    from casework.services.handover import HandoverItem

    seats = (
        MeetingParticipant.objects.filter(user=worker, organization=organization, removed_at__isnull=True)
        .exclude(meeting__status=MeetingStatus.MINUTES_LOCKED)
        .select_related("meeting")
        .order_by("meeting__starts_at", "id")
    )
    items = []
    for seat in seats:
        meeting = seat.meeting
        part = (
            _("議長")
            if meeting.chair_id == worker.pk
            else _("書記")
            if meeting.secretary_id == worker.pk
            else _("参加者")
        )
        items.append(
            HandoverItem(
                "meeting",
                seat.pk,
                None,
                meeting.title,
                f"{format_wareki(timezone.localtime(meeting.starts_at).date())} "
                f"{timezone.localtime(meeting.starts_at):%H:%M}・{part}・{meeting.get_status_display()}",
            )
        )
    return items


def handover_meeting_reassign(item, *, organization, leaving, to, by) -> None:
    """Give the leaving worker's seat (and chair or secretary) to `to`; the newcomer records their own pledge."""
    seat = MeetingParticipant.objects.select_related("meeting").get(pk=item.object_id)
    meeting = _lock(seat.meeting)
    seat = MeetingParticipant.objects.select_for_update().get(pk=seat.pk)
    if seat.user_id != leaving.pk or seat.organization_id != organization.pk or seat.removed_at is not None:
        raise ValidationError(_("%(label)s の参加者はすでに変わっています。") % {"label": item.label})
    MeetingParticipant.objects.filter(pk=seat.pk).update(removed_at=timezone.now())
    MeetingPresence.objects.filter(meeting=meeting, user_id=leaving.pk).delete()
    _participant_add(meeting, to, organization, by)
    fields = []
    if meeting.chair_id == leaving.pk:
        meeting.chair = to
        fields.append("chair")
    if meeting.secretary_id == leaving.pk:
        meeting.secretary = None if meeting.chair_id == to.pk else to
        fields.append("secretary")
    _bump(meeting, "participants", *fields)
    send_event_on_commit(meeting_group(meeting.pk), {"type": live.MEETING_PARTICIPANT_REMOVED, "user_id": leaving.pk})
