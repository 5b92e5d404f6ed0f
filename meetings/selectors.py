"""Reads for the meeting screens, the home panel and the case panel."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import F, Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from casework import audit
from casework.choices import Role
from casework.models import AccessLog, CaseSubject, Organization
from casework.ui import Panel
from meetings.access import ACTION_ROLES, ItemBasis, active_participations, item_basis
from meetings.models import (
    ActionItem,
    AgendaItem,
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
    """Return the meetings the user actively takes part in (with an active case-role membership), newest first."""
    return (
        Meeting.objects.filter(pk__in=active_participations().filter(user=user).values("meeting_id"))
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
    for item in items:
        item.meeting = meeting
        item.basis = item_basis(item)
    return items


def mark_action_permissions(items, user, viewer) -> None:
    """Set can_update on every action of the items: case workers of the assigned organization, chair, secretary."""
    org_ids = viewer.organization_ids(*ACTION_ROLES)
    for item in items:
        meeting = item.meeting
        runs_meeting = user.pk in {meeting.chair_id, meeting.secretary_id}
        for action in item.actions.all():
            action.can_update = runs_meeting or action.organization_id in org_ids


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
    """Return the open action items of the viewer's case-working organizations, due first, and whether more exist."""
    org_ids = viewer.organization_ids(*ACTION_ROLES)
    if not org_ids:
        return [], False
    rows = list(
        ActionItem.objects.filter(organization_id__in=org_ids, done=False)
        .select_related("item__meeting", "item__case", *ACTION_RELATED)
        .order_by(F("due_on").asc(nulls_last=True), "id")[: limit + 1]
    )
    for action in rows:
        action.can_update = True
    return rows[:limit], len(rows) > limit


def _log_action_list(request, actions: list[ActionItem]) -> None:
    """Write one list row per legal basis for the action items shown (raises AccessLogUnavailable)."""
    subjects = {}
    for case_id, person_id in CaseSubject.objects.filter(case_id__in={a.item.case_id for a in actions}).values_list(
        "case_id", "person_id"
    ):
        subjects.setdefault(case_id, set()).add(person_id)
    by_kind: dict[str, tuple[set, set]] = {}
    for action in actions:
        persons, meeting_ids = by_kind.setdefault(action.item.meeting.kind, (set(), set()))
        persons.update(subjects.get(action.item.case_id, ()))
        meeting_ids.add(str(action.item.meeting_id))
    for kind, (persons, meeting_ids) in sorted(by_kind.items()):
        audit.log_access(
            actor=request.user,
            action=AccessLog.Action.LIST,
            object_type="action_home",
            person_ids=persons,
            basis=AccessLog.Basis.SUPPORT_MEETING if kind == MeetingKind.SUPPORT_MEETING else AccessLog.Basis.CONSENT,
            basis_ref=",".join(sorted(meeting_ids, key=int))[:60],
        )


def home_panels(request, viewer) -> list[Panel]:
    """Offer the home page the user's upcoming meetings and their organization's open action items."""
    if not viewer.memberships:
        return []
    panels = []
    meetings = upcoming_meetings(request.user)
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
    mark_action_permissions(items, request.user, viewer)
    return Panel(
        _("会議での検討・決定"),
        "meetings/panels/case_history.html",
        {"items": items, "next": request.get_full_path()},
        order=60,
    )
