"""Reads for the meeting screens, the home panel and the case panel."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from casework.choices import Role
from casework.models import Organization
from casework.ui import Panel
from meetings.access import ItemBasis, item_basis
from meetings.models import (
    ActionItem,
    AgendaItem,
    Decision,
    Meeting,
    MeetingParticipant,
    MeetingPresence,
    MeetingStatus,
)

# A presence row without a ping for this long belongs to a connection that died with its process.
PRESENCE_STALE = timedelta(minutes=2)


def meetings_for_user(user) -> QuerySet[Meeting]:
    """Return the meetings the user actively takes part in, newest first."""
    return (
        Meeting.objects.filter(participants__user=user, participants__removed_at__isnull=True)
        .select_related("convened_by", "chair")
        .distinct()
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
            Prefetch("actions", queryset=ActionItem.objects.select_related("organization", "assignee")),
        )
        .order_by("order", "id")
    )
    for item in items:
        item.meeting = meeting
        item.basis = item_basis(item)
    return items


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


def home_panels(request, viewer) -> list[Panel]:
    """Offer the home page the user's upcoming meetings."""
    if not viewer.memberships:
        return []
    meetings = upcoming_meetings(request.user)
    if not meetings and not can_convene(viewer):
        return []
    return [Panel(_("今後の会議"), "meetings/panels/upcoming.html", {"meetings": meetings}, order=30)]


def case_meeting_history(case) -> list[AgendaItem]:
    """Return the case's agenda items across meetings, with decisions and actions, newest meeting first."""
    return list(
        AgendaItem.objects.filter(case=case)
        .select_related("meeting")
        .prefetch_related(
            Prefetch("decisions", queryset=Decision.objects.order_by("decided_at", "id")),
            Prefetch("actions", queryset=ActionItem.objects.select_related("organization", "assignee")),
        )
        .order_by("-meeting__starts_at", "order")
    )


def case_panel(request, case, viewer) -> Panel | None:
    """Show on the case page the meetings that discussed it, their decisions and open actions."""
    items = case_meeting_history(case)
    if not items:
        return None
    return Panel(_("会議での検討・決定"), "meetings/panels/case_history.html", {"items": items}, order=60)
