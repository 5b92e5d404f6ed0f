"""The calls referrals makes into places (matching, the place a referral goes to, attendance).

Casework is referrals' kernel and is imported directly where it is needed; places is a neighbour whose
matching and attendance services referrals calls from here only (models, the participant shape and figures
are imported directly).
"""

from __future__ import annotations

from datetime import date

from places.choices import AttendanceStatus
from places.models import Place
from places.selectors import attendance_for as places_attendance_for
from places.services import PlaceWishes, place_match
from places.services import attendance_record as places_attendance_record


def case_team_has(case, organization) -> bool:
    """Say whether the organization is on the case team now."""
    return case.team_rows.filter(organization=organization, ended_at__isnull=True).exists()


def places_accepting_referrals(*, wishes: str = "", age: int | None = None, limit: int = 10) -> list:
    """Return active places taking referrals, ranked by places' matching against the written wishes."""

    words = [w for w in (wishes or "").replace("、", " ").replace("。", " ").split() if w.strip()]
    return [match.place for match in place_match(wishes=PlaceWishes(interests=words, age=age), limit=limit)]


def place_accepting(place_id):
    """Return the place if it is active and accepts 参加支援 referrals, else None."""

    return (
        Place.objects.filter(pk=place_id, is_active=True, accepts_referrals=True).select_related("operator").first()
        if str(place_id).isdigit()
        else None
    )


def attendance_record(
    *,
    place,
    participant_ref: str,
    participant_label: str,
    on: date,
    status: str,
    by,
    hours=None,
    note: str = "",
    replace: bool = False,
):
    """Record one day's attendance at a place, replacing that day's entry only when asked (places' service)."""

    return places_attendance_record(
        replace=replace,
        place=place,
        participant_ref=participant_ref,
        participant_label=participant_label[:100],
        on=on,
        status=status,
        hours=hours,
        note=note[:200],
        by=by,
    )


def attendance_for(participant_ref: str) -> list:
    """Return one participant's attendance, newest first (places' selector)."""

    return list(places_attendance_for(participant_ref).order_by("-on"))


def attendance_status_choices() -> list:
    """Return the places app's attendance choices."""

    return list(AttendanceStatus.choices)
