"""Fetch-and-authorize helpers for meetings: participation decides, outsiders get 404."""

from __future__ import annotations

import re

from django.db.models import Exists, OuterRef, Q

from casework import audit, disclosure
from casework.access import deny, get_case_for_user, object_pk
from casework.choices import Role
from casework.disclosure import Basis, MeetingBasis
from casework.models import AccessLog, Case, Membership
from casework.viewers import viewer_of
from meetings.models import ActionItem, AgendaItem, CaseProposal, Decision, Meeting, MeetingKind, MeetingParticipant


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
    backed = Membership.objects.active().filter(
        user_id=OuterRef("user_id"),
        organization_id=OuterRef("organization_id"),
        role__in=PARTICIPANT_ROLES,
    )
    return MeetingParticipant.objects.filter(removed_at__isnull=True, user__is_active=True).filter(Exists(backed))


HEADER_RELATED = ("meeting__convened_by", "meeting__chair", "meeting__secretary")


def participant_for(user, meeting_id, *, header: bool = False, viewer=None) -> MeetingParticipant | None:
    """Return the user's active participation in the meeting, or None (checked afresh on every call).

    header: also read what the meeting's header shows (convening organization, chair, secretary).
    The user takes part for an organization: only while they act in that organization (the hat chosen
    in the header; `viewer` when the caller has it, as the live socket does from its session).
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    # A foreign-key lookup does not guard against ids past 64 bits (SQLite would raise OverflowError).
    meeting_id = object_pk(meeting_id)
    if meeting_id is None:
        return None
    acting = (viewer or viewer_of(user)).organization_ids(*PARTICIPANT_ROLES)
    return (
        active_participations()
        .select_related("meeting", "organization", *HEADER_RELATED if header else ())
        .filter(meeting_id=meeting_id, user=user, organization_id__in=acting)
        .first()
    )


def may_open_material(participant: MeetingParticipant | None) -> bool:
    """Whether the participant may open the meeting's material now (支援会議: pledge on record)."""
    if participant is None:
        return False
    return participant.has_pledge or participant.meeting.kind != MeetingKind.SUPPORT_MEETING


def get_meeting_for_user(request, pk, *, need_pledge: bool = True) -> Meeting:
    """Return the meeting when the user is an active participant (and pledged, for 支援会議); else 404."""
    participant = participant_for(request.user, pk, header=True)
    if participant is None:
        deny(request, object_type="meeting", object_id=pk)
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
        deny(request, object_type="meeting", object_id=meeting_pk)
    return meeting, item


# ---------------------------------------------------------------------------
# Action items: the assigned organization follows them up, often after the minutes are locked
# ---------------------------------------------------------------------------

# Place staff are outside statutory secrecy and never see what a meeting decided about a case.
ACTION_ROLES = (Role.CASEWORKER, Role.SUPERVISOR)


def action_actor_organization(user, action: ActionItem) -> int | None:
    """Return the organization the user acts for on the action item, or None when they may not update it.

    Case workers of the assigned organization may (when that organization takes part in the meeting),
    and the meeting's chair and secretary while they may open the meeting's material; never once the
    item's basis has lapsed (consent withdrawn or expired).
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    meeting = action.item.meeting
    if user.pk in {meeting.chair_id, meeting.secretary_id}:
        participant = participant_for(user, meeting.pk)
        if may_open_material(participant) and item_basis(action.item).allowed:
            return participant.organization_id
    if action_basis(user, action, cache={("material", meeting.pk): False}) is not None:
        return action.organization_id
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
        deny(request, object_type="actionitem", object_id=action_pk)
    action.actor_organization_id = organization_id
    return action


def get_proposal_for_user(request, proposal_pk):
    """Return (case, proposal) when the user may write under the proposal's case; else 404 (and a denied row)."""

    proposal_id = object_pk(proposal_pk)
    proposal = CaseProposal.objects.filter(pk=proposal_id).first() if proposal_id is not None else None
    if proposal is None:
        deny(request, object_type="caseproposal", object_id=proposal_pk)
    case = get_case_for_user(request, proposal.case_id, action=AccessLog.Action.CHANGE, for_change=True)
    return case, proposal


# ---------------------------------------------------------------------------
# The legal basis for showing a case in a meeting (the rule itself is casework.disclosure's)
# ---------------------------------------------------------------------------

# What a meeting may show of one agenda item's case; the disclosure module builds it.
ItemBasis = MeetingBasis


def layered_consents(case: Case, on) -> tuple[list[int], list[str], list]:
    """Check every subject's consent for 重層的支援会議 on that day (the disclosure module decides)."""
    return disclosure.layered_consents(case, on)


def item_basis(item: AgendaItem, *, on=None) -> ItemBasis:
    """Return the basis for showing the item's case now: 支援会議 (art. 106-6) or every subject's consent."""
    return disclosure.meeting_case_basis(item.case, kind=item.meeting.kind, meeting_ref=str(item.meeting_id), on=on)


def item_bases_for(items: list[AgendaItem], meeting: Meeting, *, on=None) -> dict[int, ItemBasis]:
    """Return {item id: item_basis(item)} for one meeting's items, in a constant number of queries."""
    bases = disclosure.meeting_case_bases(
        {item.case_id: item.case for item in items}.values(), kind=meeting.kind, meeting_ref=str(meeting.pk), on=on
    )
    return {item.pk: bases[item.case_id] for item in items}


def participating_organizations(meeting: Meeting, *, pledged: bool | None = None) -> set[int]:
    """Return the organizations with an active participant (for a 支援会議, pledged unless pledged=False)."""
    rows = active_participations().filter(meeting=meeting)
    if pledged is None:
        pledged = meeting.kind == MeetingKind.SUPPORT_MEETING
    if pledged:
        rows = rows.filter(pledge_signed_on__isnull=False)
    return set(rows.values_list("organization_id", flat=True))


def lead_participates(meeting: Meeting, case: Case, *, pledged: bool | None = None) -> bool:
    """Whether the case's lead organization takes part in the meeting (pledged, for a 支援会議 by default)."""
    return case.lead_organization_id in participating_organizations(meeting, pledged=pledged)


MEETING_REF = re.compile(r"meeting:(\d{1,18})")


def decision_basis(case: Case, ref: str, by, day) -> Basis | None:
    """Return the basis on which the meeting `ref` ("meeting:N"), run by `by`, changes the case now, or None.

    Registered in casework.disclosure.MEETING_DECISION_BASES: casework services re-check every
    decision through it. The case must be on that meeting's agenda, its lead organization a
    (pledged) participant, `by` the chair or secretary with the material open, and the meeting's
    basis for the case must hold today.
    """
    match = MEETING_REF.fullmatch(ref or "")
    if match is None or by is None or object_pk(match.group(1)) is None:
        return None
    meeting = Meeting.objects.filter(pk=object_pk(match.group(1))).first()
    if meeting is None or meeting.is_locked or by.pk not in {meeting.chair_id, meeting.secretary_id}:
        return None
    participant = participant_for(by, meeting.pk)
    if not may_open_material(participant):
        return None
    if not AgendaItem.objects.filter(meeting=meeting, case=case).exists() or not lead_participates(meeting, case):
        return None
    basis = disclosure.meeting_case_basis(case, kind=meeting.kind, meeting_ref=str(meeting.pk), on=day)
    if not basis.allowed:
        return None
    return Basis(basis.basis, meeting.decided_by_ref, organization_id=participant.organization_id, can_change=True)


def support_meeting_share(case: Case, organization, day) -> str:
    """Return the reference of a recorded 支援会議 decision to share the case with the organization, or ''.

    Registered in casework.disclosure.SUPPORT_MEETING_DECISIONS. A 役割分担 (action) decision naming the
    organization, on or before the day, in a 支援会議 where both the lead organization and that
    organization took part with a pledge (the minutes need not be locked yet).
    """
    from meetings.models import ActionItem

    actions = (
        ActionItem.objects.filter(
            organization=organization,
            item__case=case,
            item__meeting__kind=MeetingKind.SUPPORT_MEETING,
            decision__kind=Decision.Kind.ACTION,
            decision__decided_at__date__lte=day,
        )
        .select_related("decision", "item__meeting")
        .order_by("-decision__decided_at", "-id")
    )
    for action in actions:
        decision, meeting = action.decision, action.item.meeting
        took_part = (
            MeetingParticipant.objects.filter(meeting=meeting, pledge_signed_on__isnull=False)
            .filter(Q(removed_at__isnull=True) | Q(removed_at__gt=decision.decided_at))
            .values_list("organization_id", flat=True)
        )
        orgs = set(took_part)
        if case.lead_organization_id in orgs and organization.pk in orgs:
            return f"{meeting.decided_by_ref}/decision:{decision.pk}"
    return ""


# ---------------------------------------------------------------------------
# Action items on home pages and case pages
# ---------------------------------------------------------------------------


def action_basis(user, action: ActionItem, *, org_ids=None, cache: dict | None = None) -> ItemBasis | None:
    """Return the basis on which the user may see the action item now, or None.

    The item's basis must hold (consent withdrawn: hidden), and the user either may open the
    meeting's material now (pledge) or works for the assigned organization, which itself takes part
    in the meeting (with a pledge, for a 支援会議).
    """
    cache = {} if cache is None else cache
    item, meeting = action.item, action.item.meeting
    key = ("item", item.pk)
    if key not in cache:
        cache[key] = getattr(item, "basis", None) or item_basis(item)
    basis = cache[key]
    if not basis.allowed:
        return None
    key = ("material", meeting.pk)
    if key not in cache:
        participant = getattr(meeting, "participant", None)
        if participant is None or participant.user_id != user.pk:
            participant = participant_for(user, meeting.pk)
        cache[key] = may_open_material(participant)
    if cache[key]:
        return basis
    if org_ids is None:
        org_ids = viewer_of(user).organization_ids(*ACTION_ROLES)
    if action.organization_id not in org_ids:
        return None
    key = ("orgs", meeting.pk)
    if key not in cache:
        cache[key] = participating_organizations(meeting)
    return basis if action.organization_id in cache[key] else None


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


def notification_target_visible(viewer, target_id: str) -> bool:
    """For a notification about an action item: may the reader still see it (no log: nothing is shown)?"""
    if not str(target_id).isdigit():
        return False
    action = ActionItem.objects.select_related("item__meeting").filter(pk=int(target_id)).first()
    return action is not None and action_basis(viewer.user, action) is not None


def meeting_notification_visible(viewer, target_id: str) -> bool:
    """For a notification about a meeting: is the reader still one of its participants (no log: nothing shown)?"""
    if not str(target_id).isdigit():
        return False
    return MeetingParticipant.objects.filter(
        meeting_id=int(target_id), user_id=viewer.user.pk, removed_at__isnull=True
    ).exists()
