"""Figures of the places directory (地域づくり) and attendance by 年度 and month."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from casework.indicators import PLACES, Figure, Period, Tally
from places.choices import AttendanceStatus
from places.models import Attendance, Place


def community_figures(period: Period) -> list[Figure]:
    """Places in the directory: active now, accepting referrals now, new in the period (always municipality-wide)."""
    active = Place.objects.filter(is_active=True)
    return [
        Figure(
            "places.active",
            _("活動中の居場所（現在）"),
            active,
            "created_at",
            drill=PLACES,
            monthly=False,
            note=_("名簿で活動中の居場所の数（作成時点）"),
        ),
        Figure(
            "places.accepting",
            _("参加支援の受け入れ先（現在）"),
            active.filter(accepts_referrals=True),
            "created_at",
            drill=PLACES,
            monthly=False,
            note=_("参加支援の紹介を受け入れる活動中の居場所（作成時点）"),
        ),
        Figure(
            "places.new",
            _("新たに登録された居場所"),
            Place.objects.filter(period.filter(Place, "created_at")),
            "created_at",
            drill=PLACES,
            note=_("名簿への登録日が期間内の居場所"),
        ),
    ]


def attendance_figures(period: Period, participant_refs=None) -> list[Figure]:
    """Attendance recorded at places in the period (延べ), optionally for the given participant refs only."""
    rows = Attendance.objects.filter(period.filter(Attendance, "on"), status=AttendanceStatus.ATTENDED)
    if participant_refs is not None:
        rows = rows.filter(participant_ref__in=participant_refs)
    return [
        Figure(
            "places.attendance",
            _("居場所への参加（延べ回数）"),
            rows,
            "on",
            drill=PLACES,
            drill_field="place_id",
            note=_("紹介された人の出席の記録"),
        ),
    ]


def tally_places(tally: Tally) -> None:
    """Count the directory figures in one pass over the places (municipality-wide, so in every scope)."""
    active = accepting = 0
    every_scope = tally.every_scope
    for created_at, is_active, accepts in Place.objects.values_list(
        "created_at", "is_active", "accepts_referrals"
    ).iterator(5000):
        tally.add(created_at, every_scope, "places.new")
        active += is_active
        accepting += is_active and accepts
    tally.add_current("places.active", active)
    tally.add_current("places.accepting", accepting)
