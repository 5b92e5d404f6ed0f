"""Fetch-and-authorize helpers for meetings: participation decides, outsiders get 404."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from casework import audit
from casework.access import object_pk
from casework.choices import Role
from casework.models import AccessLog, Case, CaseSubject, ConsentPurpose, Membership
from casework.services import consent_check
from meetings.models import ActionItem, AgendaItem, Meeting, MeetingKind, MeetingParticipant


class PledgeRequired(Exception):
    """A 支援会議 participant has no 守秘義務 pledge on record yet."""

    def __init__(self, meeting: Meeting, participant: MeetingParticipant):
        super().__init__("pledge required")
        self.meeting = meeting
        self.participant = participant


# Who may sit in a case conference: case workers of the organization they take part for.
PARTICIPANT_ROLES = (Role.CASEWORKER, Role.SUPERVISOR)


def active_participations():
    """Return participations still backed by an active case-role membership of the participant's organization.

    Ending that membership (or deactivating the account or the organization) ends the participation on
    the next request and the next socket message, without anyone removing the participant by hand.
    """
    backed = Membership.objects.filter(
        user_id=OuterRef("user_id"),
        organization_id=OuterRef("organization_id"),
        role__in=PARTICIPANT_ROLES,
        is_active=True,
        organization__is_active=True,
    )
    return MeetingParticipant.objects.filter(removed_at__isnull=True, user__is_active=True).filter(Exists(backed))


def participant_for(user, meeting_id) -> MeetingParticipant | None:
    """Return the user's active participation in the meeting, or None (checked afresh on every call)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    # A foreign-key lookup does not guard against ids past 64 bits (SQLite would raise OverflowError).
    meeting_id = object_pk(meeting_id)
    if meeting_id is None:
        return None
    return (
        active_participations()
        .select_related("meeting", "organization")
        .filter(meeting_id=meeting_id, user=user)
        .first()
    )


def may_open_material(participant: MeetingParticipant | None) -> bool:
    """Whether the participant may open the meeting's material now (支援会議: pledge on record)."""
    if participant is None:
        return False
    return participant.has_pledge or participant.meeting.kind != MeetingKind.SUPPORT_MEETING


def _deny(request, object_id, object_type: str = "meeting") -> None:
    audit.log_access(
        actor=request.user,
        action=AccessLog.Action.DENIED,
        object_type=object_type,
        object_id=object_id,
        outcome=AccessLog.Outcome.DENIED,
    )
    raise Http404


def get_meeting_for_user(request, pk, *, need_pledge: bool = True) -> Meeting:
    """Return the meeting when the user is an active participant (and pledged, for 支援会議); else 404."""
    participant = participant_for(request.user, pk)
    if participant is None:
        _deny(request, pk)
    meeting = participant.meeting
    meeting.participant = participant
    meeting.is_chair = meeting.chair_id == request.user.pk
    meeting.is_secretary = meeting.secretary_id == request.user.pk
    if need_pledge and not may_open_material(participant):
        raise PledgeRequired(meeting, participant)
    return meeting


def get_item_for_user(request, meeting_pk, item_pk, *, need_pledge: bool = True) -> tuple[Meeting, AgendaItem]:
    """Return (meeting, item) when the item belongs to a meeting the user takes part in; else 404."""
    meeting = get_meeting_for_user(request, meeting_pk, need_pledge=need_pledge)
    item = (
        AgendaItem.objects.select_related("case", "case__lead_organization")
        .filter(pk=object_pk(item_pk), meeting=meeting)
        .first()
        if object_pk(item_pk) is not None
        else None
    )
    if item is None:
        _deny(request, meeting_pk)
    return meeting, item


# ---------------------------------------------------------------------------
# Action items: the assigned organization follows them up, often after the minutes are locked
# ---------------------------------------------------------------------------

# Place staff are outside statutory secrecy and never see what a meeting decided about a case.
ACTION_ROLES = (Role.CASEWORKER, Role.SUPERVISOR)


def action_actor_organization(user, action: ActionItem) -> int | None:
    """Return the organization the user acts for on the action item, or None when they may not update it.

    Case workers of the assigned organization may, and the meeting's chair and secretary while they
    may open the meeting's material.
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if Membership.objects.filter(
        user=user,
        organization_id=action.organization_id,
        organization__is_active=True,
        is_active=True,
        role__in=ACTION_ROLES,
    ).exists():
        return action.organization_id
    meeting = action.item.meeting
    if user.pk in {meeting.chair_id, meeting.secretary_id}:
        participant = participant_for(user, meeting.pk)
        if may_open_material(participant):
            return participant.organization_id
    return None


def get_action_for_user(request, action_pk) -> ActionItem:
    """Return the action item when the user may update it; else 404 (and a denied row)."""
    action = (
        ActionItem.objects.select_related("item__meeting", "item__case", "organization")
        .filter(pk=object_pk(action_pk))
        .first()
        if object_pk(action_pk) is not None
        else None
    )
    organization_id = action_actor_organization(request.user, action) if action is not None else None
    if organization_id is None:
        _deny(request, action_pk, "actionitem")
    action.actor_organization_id = organization_id
    return action


# ---------------------------------------------------------------------------
# The legal basis for showing a case in a meeting
# ---------------------------------------------------------------------------


@dataclass
class ItemBasis:
    """What a meeting may show of one agenda item's case, and on what legal basis."""

    allowed: bool
    basis: str
    basis_ref: str
    person_ids: list[int] = field(default_factory=list)
    persons: list = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def layered_consents(case: Case, on) -> tuple[list[int], list[str], list]:
    """Check every subject's consent for 重層的支援会議 on that day: (consent ids, problems, persons)."""
    consent_ids, problems, persons = [], [], []
    rows = CaseSubject.objects.filter(case=case).select_related("person").order_by("id")
    for index, row in enumerate(rows, start=1):
        answer = consent_check(
            person=row.person,
            organization=case.lead_organization,
            purpose=ConsentPurpose.LAYERED_MEETING,
            on=on,
            case=case,
        )
        if answer.allowed:
            consent_ids.append(answer.consent_id)
            persons.append(row.person)
        else:
            # No name: without consent even who the person is must not be shown.
            problems.append(_("対象者%(n)s: %(reason)s") % {"n": index, "reason": answer.reason})
    if not persons and not problems:
        problems.append(_("このケースには対象者が登録されていません。"))
    return consent_ids, problems, persons


def item_basis(item: AgendaItem, *, on=None) -> ItemBasis:
    """Return the basis for showing the item's case now: 支援会議 (art. 106-6) or every subject's consent."""
    meeting = item.meeting
    if meeting.kind == MeetingKind.SUPPORT_MEETING:
        persons = [row.person for row in CaseSubject.objects.filter(case_id=item.case_id).select_related("person")]
        return ItemBasis(True, AccessLog.Basis.SUPPORT_MEETING, str(meeting.pk), [p.pk for p in persons], persons)
    # Withdrawal stops further sharing from that day: check again at every open, not only when added.
    day = on or timezone.localdate()
    ids, problems, persons = layered_consents(item.case, day)
    if problems:
        return ItemBasis(False, AccessLog.Basis.NONE, "", [], [], problems)
    return ItemBasis(
        True, AccessLog.Basis.CONSENT, ",".join(str(i) for i in ids)[:60], [p.pk for p in persons], persons
    )


def log_material_open(request, meeting: Meeting, bases: list[ItemBasis], *, action=AccessLog.Action.VIEW, obj=None):
    """Write one access-log row for material shown from the meeting (raises AccessLogUnavailable)."""
    person_ids = sorted({pid for b in bases if b.allowed for pid in b.person_ids})
    if meeting.kind == MeetingKind.SUPPORT_MEETING:
        basis, ref = AccessLog.Basis.SUPPORT_MEETING, str(meeting.pk)
    else:
        basis = AccessLog.Basis.CONSENT if person_ids else AccessLog.Basis.NONE
        ref = ",".join(b.basis_ref for b in bases if b.allowed and b.basis_ref)[:60]
    participant = getattr(meeting, "participant", None)
    audit.log_access(
        actor=request.user,
        action=action,
        object_type=obj._meta.model_name if obj is not None else "meeting",
        object_id=obj.pk if obj is not None else meeting.pk,
        person_ids=person_ids,
        basis=basis,
        basis_ref=ref,
        organization_id=participant.organization_id if participant else None,
    )
