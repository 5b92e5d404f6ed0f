"""Figures of the case conferences (支援会議・重層的支援会議) by 年度 and month."""

from __future__ import annotations

from functools import cache

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from casework.indicators import (
    CASES,
    MEETINGS,
    Counts,
    Figure,
    Period,
    Scope,
    Tally,
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
    by_org = cache(lambda: grouped_counts(rows, "organization_id", "meeting__starts_at", count="meeting_id"))
    return [
        Figure(
            f"meetings.workload.org{org.pk}",
            str(org),
            rows.filter(organization=org),
            "meeting__starts_at",
            count="meeting_id",
            drill=MEETINGS,
            drill_field="meeting_id",
            precomputed=lambda pk=org.pk: by_org().get(pk, Counts(0, [0] * 12)),
        )
        for org in organizations
    ]


def tally_meetings(tally: Tally) -> None:
    """Count the meeting figures in one pass over held meetings, their participants and their agenda items."""
    meetings = {
        pk: (kind, starts_at, {convened_by})
        for pk, kind, starts_at, convened_by in Meeting.objects.filter(status__in=HELD_STATUSES)
        .values_list("pk", "kind", "starts_at", "convened_by_id")
        .iterator(5000)
    }
    participants = MeetingParticipant.objects.filter(meeting__status__in=HELD_STATUSES).values_list(
        "meeting_id", "organization_id", "removed_at"
    )
    for meeting_id, org_id, removed_at in participants.iterator(5000):
        meetings[meeting_id][2].add(org_id)  # taking part, even if removed later, puts it in the scope
        if removed_at is None and org_id in tally.organization_ids:
            starts_at = meetings[meeting_id][1]
            tally.add(starts_at, (None, org_id), f"meetings.workload.org{org_id}", meeting_id)
    scopes = {pk: tally.scopes(orgs) for pk, (_kind, _starts, orgs) in meetings.items()}
    for pk, (kind, starts_at, _orgs) in meetings.items():
        tally.add(starts_at, scopes[pk], f"meetings.{kind}.held")
    items = AgendaItem.objects.filter(meeting__status__in=HELD_STATUSES).values_list("meeting_id", "case_id")
    for meeting_id, case_id in items.iterator(5000):
        kind, starts_at, _orgs = meetings[meeting_id]
        tally.add(starts_at, scopes[meeting_id], f"meetings.{kind}.items")
        if case_id is not None:
            tally.add(starts_at, scopes[meeting_id], f"meetings.{kind}.cases", case_id)
