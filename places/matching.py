"""Matching a person's wishes to the places that accept 参加支援 referrals."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time

from core.japanese import search_key
from places.choices import WEEKDAY_LABELS, Accommodation, TargetGroup
from places.models import Place

# Points per kind of match (see place_match's docstring).
ACTIVITY_POINTS = 3
AREA_POINTS = 2
DAY_POINTS = 2
TIME_POINTS = 1
ACCOMMODATION_POINTS = 2
MISSING_ACCOMMODATION_PENALTY = 3
TARGET_POINTS = 1


@dataclass
class PlaceWishes:
    """What a person wants: activities, area, days and times, accommodations needed, age."""

    interests: list[str] = field(default_factory=list)
    area: str = ""
    weekdays: list[int] = field(default_factory=list)
    time_from: time | None = None
    time_to: time | None = None
    accommodations: list[str] = field(default_factory=list)
    age: int | None = None


@dataclass
class PlaceMatch:
    """A ranked place with the reasons it matched and what it lacks (Japanese)."""

    place: Place
    score: int
    reasons: list[str]
    misses: list[str] = field(default_factory=list)


def age_groups(age: int) -> set[str]:
    """Return the target groups a person of this age belongs to."""
    groups = {TargetGroup.ANYONE.value}
    if age < 13:
        groups.add(TargetGroup.CHILDREN.value)
    if 13 <= age < 40:
        groups.add(TargetGroup.YOUNG_PEOPLE.value)
    if age < 18:
        groups.add(TargetGroup.FAMILIES.value)
    if age >= 65:
        groups.add(TargetGroup.SENIORS.value)
    return groups


def _fold(text: str) -> str:

    return search_key(text.strip())


def _overlaps(start: time, end: time, wish_from: time | None, wish_to: time | None) -> bool:
    low = wish_from or time(0, 0)
    high = wish_to or time(23, 59)
    return start < high and end > low


def score_place(place: Place, wishes: PlaceWishes) -> PlaceMatch | None:
    """Score one place against the wishes; None when it cannot take the person (age outside its range)."""
    if wishes.age is not None:
        if (place.min_age is not None and wishes.age < place.min_age) or (
            place.max_age is not None and wishes.age > place.max_age
        ):
            return None
    score, reasons, misses = 0, [], []
    tags = [(tag, _fold(tag)) for tag in place.activities or []]
    for interest in wishes.interests:
        wanted = _fold(interest)
        if not wanted:
            continue
        hit = next((tag for tag, folded in tags if wanted in folded or folded in wanted), None)
        if hit is None and wanted in place.search_text:
            hit = interest
        if hit is not None:
            score += ACTIVITY_POINTS
            reasons.append(f"希望の活動: {hit}")
        else:
            misses.append(f"活動「{interest}」の記載なし")
    if wishes.area:
        if place.area == wishes.area:
            score += AREA_POINTS
            reasons.append(f"地区: {place.area}")
        else:
            misses.append(f"地区が異なる（{place.area or '未登録'}）")
    schedules = list(place.schedules.all())
    if wishes.weekdays:
        days = [s for s in schedules if s.weekday in wishes.weekdays]
        if days:
            score += DAY_POINTS
            labels = "・".join(dict.fromkeys(f"{WEEKDAY_LABELS[s.weekday]}曜" for s in days))
            reasons.append(f"{labels}に開催")
            fitting = [s for s in days if _overlaps(s.start_time, s.end_time, wishes.time_from, wishes.time_to)]
            if wishes.time_from or wishes.time_to:
                if fitting:
                    score += TIME_POINTS
                    reasons.append(f"希望の時間帯に開催（{fitting[0].display}）")
                else:
                    misses.append("希望の時間帯に開催なし")
        else:
            misses.append("希望の曜日に開催なし")
    elif wishes.time_from or wishes.time_to:
        fitting = [s for s in schedules if _overlaps(s.start_time, s.end_time, wishes.time_from, wishes.time_to)]
        if fitting:
            score += TIME_POINTS
            reasons.append(f"希望の時間帯に開催（{fitting[0].display}）")
        else:
            misses.append("希望の時間帯に開催なし")
    offered = set(place.accommodations or [])
    for code in wishes.accommodations:
        label = str(Accommodation(code).label) if code in Accommodation.values else code
        if code in offered:
            score += ACCOMMODATION_POINTS
            reasons.append(label)
        else:
            score -= MISSING_ACCOMMODATION_PENALTY
            misses.append(f"{label}の記載なし")
    if wishes.age is not None:
        matching_groups = age_groups(wishes.age) & set(place.target_groups or [])
        if matching_groups:
            score += TARGET_POINTS
            labels = "・".join(str(TargetGroup(g).label) for g in TargetGroup.values if g in matching_groups)
            reasons.append(f"対象: {labels}")
    return PlaceMatch(place=place, score=score, reasons=reasons, misses=misses)


def rank_places(places, wishes: PlaceWishes, limit: int = 20) -> list[PlaceMatch]:
    """Rank places by score, then name and id, so equal scores always come out in the same order."""
    matches = [m for m in (score_place(p, wishes) for p in places) if m is not None]
    matches.sort(key=lambda m: (-m.score, m.place.name, m.place.pk))
    return matches[:limit]
