"""Reads for the meeting screens, the home panel and the case panel."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from casework import audit, disclosure
from casework.choices import Role
from casework.models import AccessLog, Case, Organization, SupportPlan
from casework.selectors import OPEN_STATES
from casework.viewers import viewer_of
from core.japanese import format_wareki
from core.panels import Panel
from meetings.access import (
    ACTION_ROLES,
    ItemBasis,
    action_basis,
    active_participations,
    item_bases_for,
    item_basis,
    participant_for,
    participating_organizations,
)
from meetings.models import (
    ActionItem,
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

# What every screen showing an action item draws: who it is for and who marked it done.
ACTION_RELATED = ("organization", "assignee", "done_by")
HOME_ACTIONS_LIMIT = 30

# A presence row without a ping for this long belongs to a connection that died with its process.
PRESENCE_STALE = timedelta(minutes=2)


def meetings_for_user(user) -> QuerySet[Meeting]:
    """Return the meetings the user takes part in for the organization they act in now, newest first.

    The participation must be backed by a case-role membership that holds today, in the hat the user
    chose in the header (viewer_of): a meeting attended for the other hat is not listed.
    """
    acting = viewer_of(user).organization_ids(Role.CASEWORKER, Role.SUPERVISOR)
    participations = active_participations().filter(user=user, organization_id__in=acting)
    return (
        Meeting.objects.filter(pk__in=participations.values("meeting_id"))
        .select_related("convened_by", "chair")
        .order_by("-starts_at", "-id")
    )


def can_convene(viewer) -> bool:
    """Whether the viewer may schedule meetings: case workers of a municipality or coordinator."""
    return any(
        m.role in (Role.CASEWORKER, Role.SUPERVISOR)
        and m.organization.kind in (Organization.Kind.MUNICIPAL, Organization.Kind.COORDINATOR)
        for m in viewer.memberships
    )


def convening_organizations(viewer) -> list[Organization]:
    return [
        m.organization
        for m in viewer.memberships
        if m.role in (Role.CASEWORKER, Role.SUPERVISOR)
        and m.organization.kind in (Organization.Kind.MUNICIPAL, Organization.Kind.COORDINATOR)
    ]


def connected_users(meeting_id: int) -> list:
    """Return the users with a live connection to the meeting (from any server process)."""
    since = timezone.now() - PRESENCE_STALE
    rows = (
        MeetingPresence.objects.filter(meeting_id=meeting_id, last_seen__gte=since)
        .select_related("user")
        .order_by("connected_at")
    )
    seen, users = set(), []
    for row in rows:
        if row.user_id not in seen:
            seen.add(row.user_id)
            users.append(row.user)
    return users


def active_participants(meeting: Meeting) -> list[MeetingParticipant]:
    return list(
        meeting.participants.filter(removed_at__isnull=True).select_related("user", "organization").order_by("id")
    )


def agenda(meeting: Meeting) -> list[AgendaItem]:
    """Return the items with what each screen shows: case, decisions, actions, and the basis to show them."""
    items = list(
        meeting.items.select_related("case", "case__lead_organization")
        .prefetch_related(
            Prefetch("decisions", queryset=Decision.objects.select_related("by", "plan").order_by("decided_at", "id")),
            Prefetch("actions", queryset=ActionItem.objects.select_related(*ACTION_RELATED)),
        )
        .order_by("order", "id")
    )
    bases = item_bases_for(items, meeting)
    for item in items:
        item.meeting = meeting
        item.basis = bases[item.pk]
    return items


def mark_action_permissions(items, user, viewer) -> None:
    """Set can_update on every action of the items (the rule of meetings.access.action_actor_organization).

    The chair and secretary while they may open the material; case workers of the assigned organization
    when it takes part in the meeting; nobody once the item's basis lapsed.
    """
    org_ids = set(viewer.organization_ids(*ACTION_ROLES))
    cache: dict = {}
    # The assigned organization's path: as a case worker of it, not as the meeting's chair.
    member_cache: dict = {}
    for item in items:
        meeting = item.meeting
        key = ("item", item.pk)
        if key not in cache:
            cache[key] = getattr(item, "basis", None) or item_basis(item)
        runs_meeting = False
        if user.pk in {meeting.chair_id, meeting.secretary_id}:
            key = ("material", meeting.pk)
            if key not in cache:
                participant = getattr(meeting, "participant", None) or participant_for(user, meeting.pk)
                cache[key] = participant is not None and (
                    participant.has_pledge or meeting.kind != MeetingKind.SUPPORT_MEETING
                )
            runs_meeting = cache[key]
        member_cache[("item", item.pk)] = cache[("item", item.pk)]
        member_cache[("material", meeting.pk)] = False
        for action in item.actions.all():
            action.item = item
            action.can_update = cache[("item", item.pk)].allowed and (
                runs_meeting or action_basis(user, action, org_ids=org_ids, cache=member_cache) is not None
            )


def item_bases(items) -> list[ItemBasis]:
    return [item.basis for item in items]


def upcoming_meetings(user, *, limit: int = 5) -> list[Meeting]:
    since = timezone.now() - timedelta(hours=12)
    return list(
        meetings_for_user(user)
        .filter(starts_at__gte=since)
        .exclude(status=MeetingStatus.MINUTES_LOCKED)
        .order_by("starts_at", "id")[:limit]
    )


def open_actions_for(viewer, *, limit: int = HOME_ACTIONS_LIMIT) -> tuple[list[ActionItem], bool]:
    """Return the open action items the viewer may see now, due first, and whether more exist.

    Only the viewer's case-working organizations' items, and of those only the ones whose basis holds
    (meetings.access.action_basis): the viewer may open the meeting's material now, or the assigned
    organization itself takes part in it (pledged, for a 支援会議); consent withdrawn: hidden.
    """
    org_ids = set(viewer.organization_ids(*ACTION_ROLES))
    if not org_ids:
        return [], False
    rows = (
        ActionItem.objects.filter(organization_id__in=org_ids, done=False)
        .select_related("item__meeting", "item__case__lead_organization", *ACTION_RELATED)
        .order_by(F("due_on").asc(nulls_last=True), "id")
    )
    shown, cache = [], {}
    for action in rows.iterator(chunk_size=100):
        basis = action_basis(viewer.user, action, org_ids=org_ids, cache=cache)
        if basis is None:
            continue
        action.basis = basis
        action.can_update = True
        shown.append(action)
        if len(shown) > limit:
            break
    return shown[:limit], len(shown) > limit


def _log_action_list(request, actions: list[ActionItem]) -> None:
    """Write one list row per legal basis for the action items shown (raises AccessLogUnavailable).

    The basis is the one action_basis returned just now, so nothing is logged on a basis that lapsed.
    """
    by_kind: dict[str, tuple[set, set]] = {}
    for action in actions:
        persons, refs = by_kind.setdefault(action.basis.basis, (set(), set()))
        persons.update(action.basis.person_ids)
        refs.update(r for r in action.basis.basis_ref.split(",") if r)
    for kind, (persons, refs) in sorted(by_kind.items()):
        audit.log_access(
            actor=request.user,
            action=AccessLog.Action.LIST,
            object_type="action_home",
            person_ids=persons,
            basis=kind,
            basis_ref=",".join(sorted(refs, key=lambda r: int(r) if r.isdigit() else 0))[:60],
        )


def home_panels(request, viewer) -> list[Panel]:
    """Offer the home page the user's upcoming meetings and their organization's open action items."""
    if not viewer.memberships:
        return []
    panels = []
    meetings = upcoming_meetings(request.user)
    for meeting in meetings:
        # The chair sees how many cases wait in the meeting's queue (proposals, proposed plans, reviews due).
        if meeting.chair_id == request.user.pk and meeting.status == MeetingStatus.SCHEDULED:
            meeting.queue_waiting = sum(1 for entry in agenda_queue(meeting) if not entry.on_agenda)
    if meetings or can_convene(viewer):
        panels.append(Panel(_("今後の会議"), "meetings/panels/upcoming.html", {"meetings": meetings}, order=30))
    actions, more = open_actions_for(viewer)
    if actions:
        try:
            _log_action_list(request, actions)
            unavailable = False
        except audit.AccessLogUnavailable:
            # Fail closed: without a log row the tasks (and their cases) are not shown.
            actions, more, unavailable = [], False, True
        panels.append(
            Panel(
                _("自機関の未完了の対応事項"),
                "meetings/panels/open_actions.html",
                {"actions": actions, "more": more, "unavailable": unavailable, "next": request.get_full_path()},
                order=31,
            )
        )
    return panels


def case_meeting_history(case) -> list[AgendaItem]:
    """Return the case's agenda items across meetings, with decisions and actions, newest meeting first."""
    return list(
        AgendaItem.objects.filter(case=case)
        .select_related("meeting")
        .prefetch_related(
            Prefetch("decisions", queryset=Decision.objects.order_by("decided_at", "id")),
            Prefetch("actions", queryset=ActionItem.objects.select_related(*ACTION_RELATED)),
        )
        .order_by("-meeting__starts_at", "order")
    )


def case_panel(request, case, viewer) -> Panel | None:
    """Show on the case page the meetings that discussed it, their decisions and action items."""
    items = case_meeting_history(case)
    if not items:
        return None
    for item in items:
        # Consent withdrawn or expired: the meeting's record of the item is hidden here too.
        item.basis = item_basis(item)
    mark_action_permissions(items, request.user, viewer)
    return Panel(
        _("会議での検討・決定"),
        "meetings/panels/case_history.html",
        {"items": items, "next": request.get_full_path()},
        order=60,
    )


# ---------------------------------------------------------------------------
# The chair's queue: proposed cases, proposed plans and reviews due, of organizations taking part
# ---------------------------------------------------------------------------

# A case whose next review falls within this many days of the meeting day is in the queue.
QUEUE_REVIEW_DAYS = 14
QUEUE_LIMIT = 200


def reviews_due(meeting: Meeting) -> QuerySet[Case]:
    """Return open cases led by a participating organization whose review falls due within the window."""
    return Case.objects.filter(
        state__in=OPEN_STATES,
        next_review_on__lte=meeting.meeting_date + timedelta(days=QUEUE_REVIEW_DAYS),
        lead_organization_id__in=participating_organizations(meeting, pledged=False),
    ).select_related("lead_organization")


def queue_cases(meeting: Meeting, *, lead_org_ids: set[int] | None) -> QuerySet[Case]:
    """Return the cases put forward for this kind of meeting (lead organizations limited to lead_org_ids, if given).

    Put forward: an open proposal for this kind of meeting, a plan proposed to the conference, or an
    open case whose review falls due within QUEUE_REVIEW_DAYS of the meeting day.
    """
    proposed = CaseProposal.objects.filter(case=OuterRef("pk"), kind=meeting.kind, state=CaseProposal.State.PROPOSED)
    plan = SupportPlan.objects.filter(case=OuterRef("pk"), status=SupportPlan.Status.PROPOSED)
    review = Q(state__in=OPEN_STATES, next_review_on__lte=meeting.meeting_date + timedelta(days=QUEUE_REVIEW_DAYS))
    cases = Case.objects.filter(Exists(proposed) | Exists(plan) | review)
    if lead_org_ids is not None:
        cases = cases.filter(lead_organization_id__in=lead_org_ids)
    return cases


@dataclass
class QueueEntry:
    """One case the chair may put on the agenda, and why it is in the queue."""

    case: Case
    proposals: list = field(default_factory=list)
    plan_proposed: bool = False
    review_due: object = None
    on_agenda: bool = False

    @property
    def purpose(self) -> str:
        """Return the purpose the queue suggests: the proposal's, plan agreement, or progress review."""
        if self.proposals:
            return self.proposals[0].purpose
        return AgendaPurpose.PLAN_AGREEMENT if self.plan_proposed else AgendaPurpose.PROGRESS_REVIEW

    @property
    def sources(self) -> list[str]:
        parts = []
        for p in self.proposals:
            reason = f"「{p.reason[:40]}」" if p.reason else ""
            parts.append(
                _("提案: %(org)s・%(purpose)s%(reason)s")
                % {"org": p.organization, "purpose": p.get_purpose_display(), "reason": reason}
            )
        if self.plan_proposed:
            parts.append(_("プランの提案"))
        if self.review_due is not None:
            parts.append(_("見直し期限 %(d)s") % {"d": format_wareki(self.review_due)})
        return parts

    @property
    def label(self) -> str:
        text = _("%(n)s（主担当: %(lead)s）") % {"n": self.case.number, "lead": self.case.lead_organization}
        text += " ／ " + " ／ ".join(self.sources)
        if self.on_agenda:
            text += " " + _("（議題に追加済み）")
        return text


def agenda_queue(meeting: Meeting) -> list[QueueEntry]:
    """Return the chair's queue: cases put forward whose lead organization takes part in the meeting.

    No person's name is shown here: the case number, its lead, and why it was put forward.
    """
    lead_orgs = participating_organizations(meeting, pledged=False)
    cases = list(
        queue_cases(meeting, lead_org_ids=lead_orgs)
        .select_related("lead_organization")
        .order_by("number")[:QUEUE_LIMIT]
    )
    entries = {case.pk: QueueEntry(case) for case in cases}
    for proposal in CaseProposal.objects.filter(
        case_id__in=entries, kind=meeting.kind, state=CaseProposal.State.PROPOSED
    ).select_related("organization"):
        entries[proposal.case_id].proposals.append(proposal)
    for case_id in SupportPlan.objects.filter(case_id__in=entries, status=SupportPlan.Status.PROPOSED).values_list(
        "case_id", flat=True
    ):
        entries[case_id].plan_proposed = True
    window = meeting.meeting_date + timedelta(days=QUEUE_REVIEW_DAYS)
    on_agenda = set(meeting.items.values_list("case_id", flat=True))
    for entry in entries.values():
        case = entry.case
        if case.state in OPEN_STATES and case.next_review_on and case.next_review_on <= window:
            entry.review_due = case.next_review_on
        entry.on_agenda = case.pk in on_agenda
    return list(entries.values())


# ---------------------------------------------------------------------------
# Proposals on the case page
# ---------------------------------------------------------------------------


def case_proposals(case) -> list[CaseProposal]:
    """Return the case's proposals to meetings, newest first."""
    return list(
        CaseProposal.objects.filter(case=case)
        .select_related("organization", "proposed_by", "item__meeting")
        .order_by("-proposed_at", "-id")[:20]
    )


def proposal_panel(request, case, viewer) -> Panel | None:
    """Offer on the case page the proposals to meetings and, to those who may, a link to propose."""
    basis = disclosure.case_basis(viewer, case, disclosure.Purpose.CHANGE_CASE)
    proposals = case_proposals(case)
    if basis is None and not proposals:
        return None
    for proposal in proposals:
        proposal.can_withdraw = (
            basis is not None
            and proposal.state == CaseProposal.State.PROPOSED
            and basis.organization_id in {proposal.organization_id, case.lead_organization_id}
        )
    return Panel(
        _("会議への提案"),
        "meetings/panels/case_proposals.html",
        {"case": case, "proposals": proposals, "can_propose": basis is not None, "next": request.get_full_path()},
        order=59,
    )


def disclosure_items(person, names: list[str]) -> list:
    """The meeting items about a person's cases, for their 開示請求 package (casework.disclosure_package)."""
    from casework.disclosure_package import Item, text_item

    items = []
    agenda = (
        AgendaItem.objects.filter(case__subject_rows__person=person)
        .select_related("meeting", "case")
        .prefetch_related("decisions")
        .order_by("meeting__starts_at", "id")
    )
    for item in agenda:
        meeting = item.meeting
        record = f"{meeting.get_kind_display()}「{meeting.title}」 ケース {item.case.number}"
        items += [
            Item("会議", record, "目的", item.get_purpose_display()),
            text_item("会議", record, "会議用の概要", item.summary, f"agendaitem:{item.pk}:summary", names),
            text_item("会議", record, "記録", item.notes, f"agendaitem:{item.pk}:notes", names),
        ]
        for d in item.decisions.all():
            items.append(
                text_item("会議", record, f"決定（{d.get_kind_display()}）", d.text, f"decision:{d.pk}:text", names)
            )
    return [i for i in items if i.value]


def dated_items(viewer, start, end, mine: bool) -> list:
    """Meetings and action-item deadlines for やること and the calendar (registered in casework.calendar)."""
    from casework.calendar import DatedItem

    items = []
    if viewer.works_cases:
        meetings = (
            meetings_for_user(viewer.user)
            .filter(starts_at__date__gte=start, starts_at__date__lte=end + timedelta(days=1))
            .exclude(status=MeetingStatus.CANCELLED)
        )
        for meeting in meetings:
            local = timezone.localtime(meeting.starts_at)
            if not start <= local.date() <= end:
                continue
            items.append(
                DatedItem(
                    on=local.date(),
                    time=f"{local:%H:%M}",
                    kind=meeting.get_kind_display(),
                    title=_("会議 #%(id)s %(title)s") % {"id": meeting.pk, "title": meeting.title},
                    # The meeting's title is free text (it may name someone): the feed gets the number only.
                    feed_title=_("会議 #%(id)s") % {"id": meeting.pk},
                    url=meeting.get_absolute_url(),
                    mine=True,
                )
            )
    actions, _more = open_actions_for(viewer, limit=500)
    for action in actions:
        if action.due_on is None or not start <= action.due_on <= end:
            continue
        if mine and action.assignee_id not in (None, viewer.user.pk):
            continue
        title = _("ケース %(n)s の対応事項（会議 #%(m)s）") % {
            "n": action.item.case.number,
            "m": action.item.meeting_id,
        }
        items.append(
            DatedItem(
                on=action.due_on,
                kind=_("対応事項の期限"),
                title=title,
                feed_title=title,
                case_id=action.item.case_id,
                url=action.item.meeting.get_absolute_url(),
                todo=True,
                mine=action.assignee_id == viewer.user.pk,
            )
        )
    return items
