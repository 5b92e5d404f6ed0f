"""やること (to do) and the calendar (month, week, list), both computed from the data on each request."""

from __future__ import annotations

import calendar as pycalendar
from datetime import date, timedelta

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from casework.access import get_calendar_feed, log_calendar_feed
from casework.calendar import dated_items, has_calendar
from casework.calendar.ics import render_ics
from casework.viewers import viewer_for
from core.japanese import format_wareki

# The feed covers this window around today.
FEED_PAST_DAYS = 30
FEED_AHEAD_DAYS = 180
# やること looks this far back (overdue) and ahead.
TODO_PAST_DAYS = 365
TODO_AHEAD_DAYS = 30
VIEWS = ("month", "week", "list")
WEEKDAYS = ("月", "火", "水", "木", "金", "土", "日")


def _viewer_with_items(request):
    viewer = viewer_for(request)
    if not has_calendar(viewer):
        raise Http404
    return viewer


@require_GET
def todo(request):
    viewer = _viewer_with_items(request)
    today = timezone.localdate()
    scope = "organization" if request.GET.get("scope") == "organization" else "mine"
    items = [
        item
        for item in dated_items(
            viewer,
            today - timedelta(days=TODO_PAST_DAYS),
            today + timedelta(days=TODO_AHEAD_DAYS),
            mine=scope == "mine",
        )
        if item.todo
    ]
    rows = [{"item": item, "overdue": item.overdue(today), "today": item.on == today} for item in items]
    return render(
        request,
        "casework/calendar/todo.html",
        {
            "rows": rows,
            "scope": scope,
            "today": today,
            "overdue_count": sum(1 for row in rows if row["overdue"]),
            "ahead_days": TODO_AHEAD_DAYS,
        },
    )


def _parse_day(value: str, today: date) -> date:
    """Read ?date=; a bad date, or one so far off that a month or week around it leaves the calendar, is today."""
    try:
        day = date.fromisoformat(value) if value else today
    except ValueError:
        return today
    # Years 1 and 9999 would overflow when the month grid or the week is built around them.
    return day if abs(day.year - today.year) <= 100 else today


@require_GET
def calendar_view(request):
    viewer = _viewer_with_items(request)
    today = timezone.localdate()
    mode = request.GET.get("view") if request.GET.get("view") in VIEWS else "month"
    day = _parse_day(request.GET.get("date", ""), today)
    if mode == "week":
        start = day - timedelta(days=day.weekday())
        end = start + timedelta(days=6)
        previous, following = start - timedelta(days=7), start + timedelta(days=7)
    else:
        start = day.replace(day=1)
        end = day.replace(day=pycalendar.monthrange(day.year, day.month)[1])
        previous = (start - timedelta(days=1)).replace(day=1)
        following = end + timedelta(days=1)
    items = dated_items(viewer, start, end)
    by_day: dict[date, list] = {}
    for item in items:
        by_day.setdefault(item.on, []).append(item)
    weeks = []
    if mode == "month":
        grid_start = start - timedelta(days=start.weekday())
        grid_end = end + timedelta(days=6 - end.weekday())
        current = grid_start
        while current <= grid_end:
            weeks.append(
                [
                    {
                        "day": current + timedelta(days=i),
                        "in_month": (current + timedelta(days=i)).month == start.month,
                        "items": by_day.get(current + timedelta(days=i), []),
                    }
                    for i in range(7)
                ]
            )
            current += timedelta(days=7)
    elif mode == "week":
        weeks.append(
            [
                {"day": start + timedelta(days=i), "in_month": True, "items": by_day.get(start + timedelta(days=i), [])}
                for i in range(7)
            ]
        )
    return render(
        request,
        "casework/calendar/calendar.html",
        {
            "mode": mode,
            "start": start,
            "end": end,
            "today": today,
            "weeks": weeks,
            "weekdays": WEEKDAYS,
            "items": items,
            # 令和8年12月 (the month), not its first day.
            "month_label": format_wareki(start).removesuffix(f"{start.day}日"),
            "previous": previous,
            "following": following,
        },
    )


@login_not_required  # the secret in the URL is the authentication: calendar programs keep no session
@require_GET
def calendar_feed(request, secret: str):
    """Serve the personal ICS feed: what the feed's membership may see now, numbers and kinds only; logged."""
    feed, viewer = get_calendar_feed(request, secret)
    today = timezone.localdate()
    items = dated_items(viewer, today - timedelta(days=FEED_PAST_DAYS), today + timedelta(days=FEED_AHEAD_DAYS))
    log_calendar_feed(feed, viewer, items)
    body = render_ics(items, base_url=request.build_absolute_uri("/"), calendar_name="重層的支援 カレンダー")
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="jusou.ics"'
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response
