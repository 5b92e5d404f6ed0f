"""Template filters for case screens: 和暦 dates and state badges."""

from datetime import date, datetime

from django import template
from django.utils import timezone

from core.japanese import format_wareki, staff_name, with_honorific

register = template.Library()

STATE_BADGES = {
    "intake": "",
    "assessment": "warn",
    "planning": "warn",
    "in_support": "ok",
    "closed": "",
    "suspended": "danger",
}


@register.filter
def wareki(value, with_weekday=False):
    """Show a date (or a datetime's local date) in 和暦; blank for none."""
    if not value:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value).date()
    if isinstance(value, date):
        try:
            return format_wareki(value, with_weekday=bool(with_weekday))
        except ValueError:
            return value.isoformat()
    return value


@register.filter(name="staff_name")
def staff_name_filter(user):
    """Show a staff member's name family name first (佐藤　美咲)."""
    return staff_name(user)


@register.filter
def honorific(name):
    """The name with さん, unless it already has an honorific (あかりちゃん stays あかりちゃん)."""
    return with_honorific(str(name or ""))


@register.filter
def wareki_time(value):
    """Show a datetime as 和暦 date plus HH:MM in local time."""
    if not value:
        return ""
    local = timezone.localtime(value)
    return f"{format_wareki(local.date())} {local:%H:%M}"


@register.filter
def state_badge(state):
    """Return the badge class for a case state."""
    return STATE_BADGES.get(str(state), "")


@register.filter
def get_item(mapping, key):
    """Look a key up in a dict."""
    return mapping.get(key) if mapping else None
