"""Fetch-and-authorize helpers: outsiders get 404, never a hint that a record exists."""

from __future__ import annotations

from django.http import Http404

from casework.audit import log_access
from casework.models import AccessLog
from casework.viewers import viewer_for
from places import selectors
from places.models import Place, PlaceImportJob


def require(condition: bool) -> None:
    """Raise 404 unless the condition holds (a screen the viewer's roles do not have)."""
    if not condition:
        raise Http404


def get_place_for_user(request, pk: int) -> Place:
    """Return a place the viewer may see in the directory."""
    viewer = viewer_for(request)
    place = selectors._with_related(selectors.visible_places(viewer)).filter(pk=pk).first()
    if place is None:
        raise Http404
    return place


def get_place_for_edit(request, pk: int) -> Place:
    """Return a place the viewer may edit: administrators any, place staff their operator's."""
    viewer = viewer_for(request)
    place = selectors._with_related(selectors.editable_places(viewer)).filter(pk=pk).first()
    if place is None:
        raise Http404
    return place


def get_place_for_attendance(
    request, pk: int, *, action: str = AccessLog.Action.VIEW
) -> tuple[Place, selectors.AttendancePage]:
    """Return a place whose attendance the viewer records (its operator's staff only) and its page, logged.

    Attendance rows belong to referral participants, so each view or change is logged with the persons
    the page shows (those the referring app still lets the place see); when the log cannot be written
    the page is refused (503, core.guards).
    """
    viewer = viewer_for(request)
    place = (
        Place.objects.filter(pk=pk, operator_id__in=selectors.operator_ids(viewer)).select_related("operator").first()
    )
    if place is None:
        raise Http404
    page = selectors.attendance_page(place)
    # One row per basis the shown participants are seen on (the card's consent or 支援会議 decision);
    # a page showing nobody is logged on the place's own organization.
    rows = [(kind, persons, ",".join(refs)[:60]) for kind, (persons, refs) in sorted(page.bases.items())] or [
        (AccessLog.Basis.OWN_ORGANIZATION, [], f"organization:{place.operator_id}")
    ]
    for basis, person_ids, basis_ref in rows:
        log_access(
            actor=request.user,
            action=action,
            object_type="places.attendance",
            object_id=place.pk,
            person_ids=person_ids,
            basis=basis,
            basis_ref=basis_ref,
        )
    return place, page


def get_import_job_for_user(request, token) -> PlaceImportJob:
    """Return the viewer's own import job (the token is only valid for its uploader)."""
    viewer = viewer_for(request)
    require(selectors.can_import(viewer))
    job = PlaceImportJob.objects.filter(pk=token, created_by=request.user).select_related("operator").first()
    if job is None:
        raise Http404
    return job


def log_places_export(request) -> None:
    """Write the row for a download of the place list (raises AccessLogUnavailable: the file is not sent)."""
    log_access(
        actor=request.user, action=AccessLog.Action.EXPORT, object_type="places.place", reason="居場所一覧の出力"
    )
