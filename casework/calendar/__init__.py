"""Dated items for やること and the calendar, contributed by every app through one registry.

An app registers a source from its AppConfig.ready (casework never imports the apps above it, as with
core.panels): source(viewer, start, end, mine) -> list[DatedItem], the items dated within [start, end]
that the viewer may see now (each source asks the disclosure module or its access helpers). Titles carry
case numbers, referral and meeting numbers and kinds only, never a person's name or case content.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

SOURCES: list[Callable] = []


@dataclass
class DatedItem:
    on: date
    kind: str  # 見直し日, 会議, 対応事項の期限, 回答期限, 同意の有効期限
    title: str
    url: str = ""
    todo: bool = False  # something the viewer's side has to do (listed on やること)
    time: str = ""  # "14:00" for a meeting
    mine: bool = False  # the viewer is the responsible worker (not only their organization)
    # The title for what leaves the app (the ICS feed): case, referral and meeting numbers and kinds only,
    # never free text such as a meeting's title. Empty: the feed shows the kind alone.
    feed_title: str = ""
    case_id: int | None = None  # the case the item is about, so the feed's access-log row names its persons

    def overdue(self, today: date) -> bool:
        return self.todo and self.on < today


def has_calendar(viewer) -> bool:
    """Who has やること, a calendar and so a feed: caseworkers, supervisors and place staff."""
    return viewer.works_cases or viewer.is_place_staff


def register_dated_source(source: Callable) -> Callable:
    if source not in SOURCES:
        SOURCES.append(source)
    return source


def dated_items(viewer, start: date, end: date, *, mine: bool = False) -> list[DatedItem]:
    items: list[DatedItem] = []
    for source in SOURCES:
        items.extend(source(viewer, start, end, mine))
    items.sort(key=lambda item: (item.on, item.time, item.kind, item.title))
    return items
