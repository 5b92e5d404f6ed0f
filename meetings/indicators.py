"""Figures of the case conferences (支援会議・重層的支援会議) by 年度 and month."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from casework.indicators import (
    CASES,
    MEETINGS,
    Counts,
    Figure,
    Period,
    Scope,
    grouped_counts,
    workload_organizations,
)
from meetings.models import AgendaItem, Meeting, MeetingKind, MeetingParticipant, MeetingStatus

# A meeting counts as held once it has started; scheduled ones are plans, not meetings.
HELD_STATUSES = [MeetingStatus.IN_SESSION, MeetingStatus.CONCLUDED, MeetingStatus.MINUTES_LOCKED]


def held_meetings(period: Period, scope: Scope) -> QuerySet[Meeting]:
    """Return the meetings held in the period that the organization convened or took part in."""
    meetings = Meeting.objects.filter(status__in=HELD_STATUSES).filter(period.filter(Meeting, "starts_at"))
    if scope.organization is not None:
        taking_part = MeetingParticipant.objects.filter(organization=scope.organization).values("meeting_id")
        meetings = meetings.filter(Q(convened_by=scope.organization) | Q(pk__in=taking_part))
    return meetings


def meeting_figures(period: Period, scope: Scope) -> list[Figure]:
    """Meetings held and cases discussed (実ケース数 and 延べ議題数), for each kind."""
    held = held_meetings(period, scope)
    figures = []
    for code, label in MeetingKind.choices:
        meetings = held.filter(kind=code)
        items = AgendaItem.objects.filter(meeting__in=meetings)
        figures += [
            Figure(f"meetings.{code}.held", _("%(k)s 開催回数") % {"k": label}, meetings, "starts_at", drill=MEETINGS),
            Figure(
                f"meetings.{code}.cases",
                _("%(k)s 検討したケース（実数）") % {"k": label},
                items,
                "meeting__starts_at",
                count="case_id",
                drill=CASES,
                drill_field="case_id",
            ),
            Figure(
                f"meetings.{code}.items",
                _("%(k)s 検討したケース（延べ）") % {"k": label},
                items,
                "meeting__starts_at",
                drill=MEETINGS,
                drill_field="meeting_id",
                note=_("議題の数（同じケースを別の会議で扱えば別に数える）"),
            ),
        ]
    return figures


def meeting_workload(period: Period, scope: Scope) -> list[Figure]:
    """Held meetings each organization took part in (延べ回数), the meeting workload."""
    organizations = workload_organizations(scope)
    rows = MeetingParticipant.objects.filter(
        meeting__status__in=HELD_STATUSES, removed_at__isnull=True, organization__in=organizations
    ).filter(period.filter(MeetingParticipant, "meeting__starts_at"))
    by_org = grouped_counts(rows, "organization_id", "meeting__starts_at", count="meeting_id")
    empty = Counts(0, [0] * 12)
    return [
        Figure(
            f"meetings.workload.org{org.pk}",
            str(org),
            rows.filter(organization=org),
            "meeting__starts_at",
            count="meeting_id",
            drill=MEETINGS,
            drill_field="meeting_id",
            precomputed=by_org.get(org.pk, empty),
        )
        for org in organizations
    ]
