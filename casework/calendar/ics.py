"""The personal calendar feed as iCalendar (RFC 5545), built with the `icalendar` package.

Summaries are each item's `feed_title` (case, referral and meeting numbers and kinds only) or its kind;
no description, location or attendee: nothing typed by a person leaves the app through the feed.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event

PRODID = "-//jusou//重層的支援 ケース管理//JA"


def _uid(item) -> str:
    key = f"{item.kind}|{item.url}|{item.feed_title}|{item.on.isoformat()}|{item.time}"
    return hashlib.sha256(key.encode()).hexdigest()[:32] + "@jusou"


def render_ics(items, *, base_url: str, calendar_name: str) -> bytes:
    """Return the VCALENDAR for the dated items: all-day events, or timed ones (Asia/Tokyo) for meetings."""
    tz = ZoneInfo(settings.TIME_ZONE)
    stamp = timezone.now()
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", calendar_name)
    cal.add("x-wr-timezone", settings.TIME_ZONE)
    for item in items:
        event = Event()
        event.add("uid", _uid(item))
        event.add("dtstamp", stamp)
        summary = f"{item.kind} {item.feed_title}".strip() if item.feed_title else str(item.kind)
        event.add("summary", summary)
        if item.time:
            hour, minute = (int(part) for part in item.time.split(":"))
            start = datetime.combine(item.on, time(hour, minute), tzinfo=tz)
            event.add("dtstart", start)
            event.add("dtend", start + timedelta(hours=1))
        else:
            event.add("dtstart", item.on)
            event.add("dtend", item.on + timedelta(days=1))
        event.add("categories", [str(item.kind)])
        event.add("transp", "TRANSPARENT")
        if item.url:
            event.add("url", base_url.rstrip("/") + item.url)
        cal.add_component(event)
    if any(item.time for item in items):
        cal.add_missing_timezones()
    return cal.to_ical()
