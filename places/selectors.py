"""Reads of the places app: the directory, operator staff's places, matching candidates, attendance."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from casework.choices import Role
from casework.models import membership_active_q
from casework.viewers import Viewer
from core.japanese import search_key
from core.panels import Panel
from places import participants
from places.models import Attendance, Place, PlaceSchedule


def _with_related(queryset: QuerySet) -> QuerySet:
    return queryset.select_related("operator").prefetch_related(
        Prefetch("schedules", queryset=PlaceSchedule.objects.order_by("weekday", "start_time", "id"))
    )


def can_view_directory(viewer: Viewer) -> bool:
    """Caseworkers, supervisors, coordinators, place staff and administrators see the directory."""
    return viewer.has_role(Role.CASEWORKER, Role.SUPERVISOR, Role.PLACE_STAFF, Role.ADMINISTRATOR)


def can_match(viewer: Viewer) -> bool:
    return viewer.works_cases or viewer.is_administrator


def can_import(viewer: Viewer) -> bool:
    return viewer.is_administrator or viewer.is_place_staff


def operator_ids(viewer: Viewer) -> set[int]:
    """The organizations whose places the viewer runs as place staff."""
    return viewer.organization_ids(Role.PLACE_STAFF)


def can_edit(viewer: Viewer, place: Place) -> bool:
    return viewer.is_administrator or place.operator_id in operator_ids(viewer)


def visible_places(viewer: Viewer) -> QuerySet[Place]:
    """Places the viewer may see: all for administrators, active ones plus their own for others."""
    if not can_view_directory(viewer):
        return Place.objects.none()
    if viewer.is_administrator:
        return Place.objects.all()
    return Place.objects.filter(Q(is_active=True) | Q(operator_id__in=operator_ids(viewer)))


def editable_places(viewer: Viewer) -> QuerySet[Place]:
    if viewer.is_administrator:
        return Place.objects.all()
    return Place.objects.filter(operator_id__in=operator_ids(viewer))


def directory(viewer: Viewer, filters: dict) -> QuerySet[Place]:
    """The directory list with search and filters (area, kind, weekday, target, accommodation, referrals)."""

    queryset = visible_places(viewer)
    if q := (filters.get("q") or "").strip():
        for word in q.split():
            queryset = queryset.filter(search_text__contains=search_key(word))
    if area := filters.get("area"):
        queryset = queryset.filter(area=area)
    if kind := filters.get("kind"):
        queryset = queryset.filter(kind=kind)
    if (weekday := filters.get("weekday")) not in (None, ""):
        queryset = queryset.filter(schedules__weekday=int(weekday))
    # Codes are ASCII words, so the quoted code is found the same way in SQLite's and PostgreSQL's JSON text.
    if target := filters.get("target"):
        queryset = queryset.filter(target_groups__icontains=f'"{target}"')
    if accommodation := filters.get("accommodation"):
        queryset = queryset.filter(accommodations__icontains=f'"{accommodation}"')
    if filters.get("accepts_referrals"):
        queryset = queryset.filter(accepts_referrals=True)
    return _with_related(queryset.distinct()).order_by("area", "name", "id")


def areas() -> list[str]:
    return list(Place.objects.exclude(area="").values_list("area", flat=True).distinct().order_by("area"))


def places_for_operator_user(user) -> QuerySet[Place]:
    """The places run by organizations where the user is active place staff."""
    return _with_related(
        Place.objects.filter(
            membership_active_q(prefix="operator__memberships__"),
            operator__memberships__user=user,
            operator__memberships__role=Role.PLACE_STAFF,
        ).distinct()
    ).order_by("name", "id")


def referral_accepting_places() -> QuerySet[Place]:
    """Active places that accept 参加支援 referrals (the candidates for matching)."""
    return _with_related(Place.objects.filter(is_active=True, accepts_referrals=True)).order_by("name", "id")


def attendance_for(participant_ref: str) -> QuerySet[Attendance]:
    """A participant's attendance history, newest first (participant_ref is supplied by referrals)."""
    return Attendance.objects.filter(participant_ref=participant_ref).select_related("place").order_by("-on", "id")


def attendance_at(place: Place, *, on=None) -> QuerySet[Attendance]:
    queryset = Attendance.objects.filter(place=place).select_related("recorded_by")
    if on is not None:
        queryset = queryset.filter(on=on)
    return queryset.order_by("-on", "participant_label", "id")


@dataclass
class AttendancePage:
    """What the attendance screen shows: who can be recorded, recent rows, and the persons they reveal."""

    participants: list[tuple[str, str]]
    # Refs the place once recorded that cannot be recorded now, with the reason (Japanese).
    refusals: dict[str, str]
    records: list[Attendance]
    person_ids: list[int]
    # {basis: (person ids, basis refs)} of the participants shown, one access-log row each.
    bases: dict[str, tuple[list[int], list[str]]]


def attendance_page(place: Place, *, limit: int = 100) -> AttendancePage:
    """Return the attendance screen's data as the participants' own app allows it now.

    A participant whose card the place may no longer see (a referral past its place access period)
    is not offered, and their past rows show no label; the person ids of everyone shown are returned
    for the access-log row.
    """
    records = list(attendance_at(place)[:limit])
    known = participants.participants_at(place)
    latest_labels: dict[str, str] = {}
    for ref, label in attendance_at(place).values_list("participant_ref", "participant_label"):
        latest_labels.setdefault(ref, label)
    choices = {p.ref: p.label for p in known.values() if p.recordable}
    refusals = {p.ref: p.refusal for p in known.values() if not p.recordable and p.refusal}
    for ref, label in latest_labels.items():
        if not participants.is_managed(ref):
            choices.setdefault(ref, label)  # a ref no app answers for: as recorded
        elif ref not in known:
            refusals.setdefault(ref, _("この参加者の出欠は記録できません。"))
    shown = set(choices)
    for record in records:
        participant = known.get(record.participant_ref)
        if participants.is_managed(record.participant_ref) and (participant is None or not participant.visible):
            # Shown only as a row the place kept; never who it was (the label is not saved back).
            record.participant_label = _("（閲覧期限切れの参加者）")
        else:
            shown.add(record.participant_ref)
    person_ids = sorted({pid for ref in shown if ref in known for pid in known[ref].person_ids})
    bases: dict[str, tuple[set[int], set[str]]] = {}
    for ref in shown:
        participant = known.get(ref)
        if participant is not None and participant.person_ids:
            persons, refs = bases.setdefault(participant.basis, (set(), set()))
            persons.update(participant.person_ids)
            if participant.basis_ref:
                refs.add(participant.basis_ref)
    return AttendancePage(
        bases={kind: (sorted(persons), sorted(refs)) for kind, (persons, refs) in bases.items()},
        participants=sorted(choices.items(), key=lambda item: item[1]),
        refusals=refusals,
        records=records,
        person_ids=person_ids,
    )


def participants_at(place: Place) -> list[tuple[str, str]]:
    """(participant_ref, label) of everyone whose attendance the place may record now."""
    return attendance_page(place, limit=0).participants


def home_panels(request, viewer: Viewer) -> list[Panel]:
    """Return the places app's panels: place staff see their places and where to record attendance."""
    panels = []
    if viewer.is_place_staff:
        # The operator of the hat worn now only (a user may be staff of two operators).
        places = list(places_for_operator_user(viewer.user).filter(operator_id__in=operator_ids(viewer)))
        panels.append(Panel(_("運営している居場所"), "places/panels/my_places.html", {"places": places}, order=15))
    if viewer.works_cases:
        panels.append(Panel(_("居場所をさがす"), "places/panels/find.html", {}, order=40))
    return panels
