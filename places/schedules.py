"""Reading and writing recurring schedules in the Japanese form staff type in Excel.

Accepted: 「毎週水曜 10:00-12:00」, 「第2・第4土曜 11:00～14:00」, 「毎週水曜 10時から12時」,
「第1日曜 9時半～11時30分」, several joined by 「、」 or 「;」.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import time

from places.choices import WEEKDAY_LABELS

# Full-width digits, colon and dashes typed with the IME: folded only for parsing, never stored.
_FOLD = str.maketrans("０１２３４５６７８９：", "0123456789:")
# A time as people write it: 10:00, 10時, 10時30分, 10時半.
_TIME = r"\d{1,2}(?::\d{2}|時(?:\d{1,2}分|半)?)"
_ENTRY = re.compile(
    r"^(?P<weeks>毎週|第[1-5](?:・第?[1-5])*)\s*"
    r"(?P<day>[月火水木金土日])曜日?\s*"
    rf"(?P<start>{_TIME})\s*(?:[-−－~〜～–—]|から)\s*(?P<end>{_TIME})\s*(?:まで)?$"
)
_KANJI_TIME = re.compile(r"(?P<h>\d{1,2})時(?:(?P<m>\d{1,2})分|(?P<half>半))?")
_SPLIT = re.compile(r"\s*[、;；]\s*")


@dataclass(frozen=True)
class ScheduleSpec:
    """One recurring slot: weekday 0 (Mon) to 6 (Sun), weeks of the month (empty: every week)."""

    weekday: int
    start_time: time
    end_time: time
    weeks_of_month: tuple[int, ...] = field(default=())

    def display(self) -> str:
        return format_schedule(self.weekday, list(self.weeks_of_month), self.start_time, self.end_time)


def format_schedule(weekday: int, weeks_of_month: list[int], start: time, end: time) -> str:
    """Return e.g. 「第2・第4土曜 11:00〜14:00」 or 「毎週水曜 10:00〜12:00」."""
    weeks = "・".join(f"第{w}" for w in sorted(weeks_of_month)) if weeks_of_month else "毎週"
    return f"{weeks}{WEEKDAY_LABELS[weekday]}曜 {start:%H:%M}〜{end:%H:%M}"


def _parse_time(text: str) -> time:
    if match := _KANJI_TIME.fullmatch(text):
        hours = int(match["h"])
        minutes = 30 if match["half"] else int(match["m"] or 0)
    else:
        hours, minutes = (int(part) for part in text.split(":"))
    if not (0 <= hours <= 23 and 0 <= minutes <= 59):
        raise ValueError(f"時刻が正しくありません: {text}")
    return time(hours, minutes)


def parse_schedules(text: str) -> list[ScheduleSpec]:
    """Parse a schedule cell; raise ValueError with a Japanese message naming the bad part."""
    folded = (text or "").translate(_FOLD).strip()
    if not folded:
        return []
    specs: list[ScheduleSpec] = []
    for part in _SPLIT.split(folded):
        if not part:
            continue
        match = _ENTRY.match(part)
        if not match:
            raise ValueError(
                f"開催日時を読み取れません:「{part}」（例:「毎週水曜 10:00-12:00」「第2・第4土曜 11:00～14:00」）"
            )
        weeks: tuple[int, ...] = ()
        if match["weeks"] != "毎週":
            weeks = tuple(sorted({int(d) for d in re.findall(r"[1-5]", match["weeks"])}))
        start, end = _parse_time(match["start"]), _parse_time(match["end"])
        if end <= start:
            raise ValueError(f"終了時刻が開始時刻より前です:「{part}」")
        specs.append(ScheduleSpec(WEEKDAY_LABELS.index(match["day"]), start, end, weeks))
    return specs


def schedule_order(spec) -> tuple:
    """The order schedules are stored and shown in (weekday, start), whatever order a file wrote them in."""
    return (spec.weekday, spec.start_time, tuple(spec.weeks_of_month or ()), spec.end_time)
