"""ADAPTERS to casework and places for what their services do not offer (yet).

Each function here stands in for a service or selector that belongs to a lower app. When that
app grows the real one, replace the body with a call to it; callers in referrals stay unchanged.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def case_team_has(case, organization) -> bool:
    """ADAPTER (casework): whether the organization is on the case team now (no selector exists yet)."""
    return case.team_rows.filter(organization=organization, ended_at__isnull=True).exists()


def places_accepting_referrals(*, wishes: str = "", age: int | None = None, limit: int = 10) -> list:
    """ADAPTER (places.selectors.referral_accepting_places / place_match): active places taking referrals.

    Ranks places whose activities or description share words with the person's wishes first.
    """
    from casework.japanese import search_key
    from places.models import Place

    places = list(
        Place.objects.filter(is_active=True, accepts_referrals=True)
        .select_related("operator")
        .prefetch_related("schedules")
        .order_by("area", "name")
    )
    if age is not None:
        places = [
            p for p in places if (p.min_age is None or p.min_age <= age) and (p.max_age is None or age <= p.max_age)
        ]
    words = [search_key(w) for w in (wishes or "").replace("、", " ").replace("。", " ").split() if w.strip()]

    def score(place) -> int:
        return sum(1 for w in words if w and w in place.search_text)

    places.sort(key=lambda p: -score(p))
    return places[:limit]


def place_accepting(place_id):
    """ADAPTER (places): the place if it is active and accepts 参加支援 referrals, else None."""
    from places.models import Place

    return (
        Place.objects.filter(pk=place_id, is_active=True, accepts_referrals=True).select_related("operator").first()
        if str(place_id).isdigit()
        else None
    )


def attendance_record(
    *, place, participant_ref: str, participant_label: str, on: date, status: str, by, hours=None, note: str = ""
):
    """ADAPTER (places.services.attendance_record): record or correct one day's attendance at a place."""
    from places.choices import AttendanceStatus
    from places.models import Attendance

    if status not in AttendanceStatus.values:
        raise ValidationError({"status": _("出欠を選んでください。")})
    if hours is not None and not (Decimal(0) <= Decimal(hours) <= Decimal(24)):
        raise ValidationError({"hours": _("時間は0〜24の範囲で入力してください。")})
    row, _created = Attendance.objects.update_or_create(
        place=place,
        participant_ref=participant_ref,
        on=on,
        defaults={
            "participant_label": participant_label[:100],
            "status": status,
            "hours": hours,
            "note": note[:200],
            "recorded_by": by,
        },
    )
    return row


def attendance_for(participant_ref: str) -> list:
    """ADAPTER (places.selectors.attendance_for): one participant's attendance, newest first."""
    from places.models import Attendance

    return list(Attendance.objects.filter(participant_ref=participant_ref).select_related("place").order_by("-on"))


def attendance_status_choices() -> list:
    """Return the places app's attendance choices."""
    from places.choices import AttendanceStatus

    return list(AttendanceStatus.choices)
