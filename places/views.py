"""Screens of the places app: directory, edit, matching, import/export, HSDS, attendance."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from casework.models import AccessLog, Organization
from casework.viewers import viewer_for
from core.japanese import format_wareki, parse_date
from places import access, selectors, services
from places.exports import export_places
from places.forms import (
    AttendanceForm,
    AttendanceSessionForm,
    DirectoryFilterForm,
    ExportForm,
    ImportForm,
    MatchForm,
    PlaceForm,
)
from places.hsds import build_directory
from places.models import Place, PlaceImportJob

PAGE_SIZE = 25


@require_GET
def place_list(request):
    """Search and filter the directory of places."""
    viewer = viewer_for(request)
    access.require(selectors.can_view_directory(viewer))
    form = DirectoryFilterForm(request.GET or None, areas=selectors.areas())
    filters = form.cleaned_data if form.is_valid() else {}
    page = Paginator(selectors.directory(viewer, filters), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "places/place_list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "can_create": viewer.is_administrator or bool(selectors.operator_ids(viewer)),
        },
    )


@require_GET
def place_detail(request, pk: int):
    """Show one place to staff who may see the directory."""
    place = access.get_place_for_user(request, pk)
    viewer = viewer_for(request)
    return render(
        request,
        "places/place_detail.html",
        {
            "place": place,
            "can_edit": selectors.can_edit(viewer, place),
            "can_record_attendance": place.operator_id in selectors.operator_ids(viewer),
        },
    )


def _operators_for(viewer):

    if viewer.is_administrator:
        return list(Organization.objects.filter(is_active=True, kind=Organization.Kind.PLACE_OPERATOR))
    return viewer.organizations("place_staff")


@require_http_methods(["GET", "POST"])
def place_create(request):
    """Register a new place (administrators, or place staff for their own organization)."""
    viewer = viewer_for(request)
    operators = _operators_for(viewer)
    access.require(viewer.is_administrator or viewer.is_place_staff)
    return _place_form(request, Place(), operators)


@require_http_methods(["GET", "POST"])
def place_edit(request, pk: int):
    """Edit a place the viewer runs (or any place, for administrators)."""
    place = access.get_place_for_edit(request, pk)
    operators = _operators_for(viewer_for(request))
    if place.operator not in operators:
        operators = [*operators, place.operator] if viewer_for(request).is_administrator else operators
    return _place_form(request, place, operators)


def _place_form(request, place: Place, operators):
    form = PlaceForm(request.POST or None, instance=place, operators=operators)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.place_save(place=form.save(commit=False), schedules=form.schedules, by=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("居場所「%(name)s」を保存しました。") % {"name": saved.name})
            return redirect(saved)
    return render(request, "places/place_form.html", {"form": form, "place": place})


@require_GET
def match(request):
    """Find places accepting referrals that suit a person's wishes, with the reasons."""
    viewer = viewer_for(request)
    access.require(selectors.can_match(viewer))
    form = MatchForm(request.GET or None, areas=selectors.areas())
    results = None
    if request.GET and form.is_valid():
        data = form.cleaned_data
        wishes = services.PlaceWishes(
            interests=data["interests"],
            area=data["area"] or "",
            weekdays=data["weekdays"],
            time_from=data["time_from"],
            time_to=data["time_to"],
            accommodations=data["accommodations"],
            age=data["age"],
        )
        results = services.place_match(wishes=wishes)
    return render(request, "places/match.html", {"form": form, "results": results})


@require_http_methods(["GET", "POST"])
def import_upload(request):
    """Upload a places file; its rows are checked (dry run) before anything is saved."""
    viewer = viewer_for(request)
    access.require(selectors.can_import(viewer))
    operator = None if viewer.is_administrator else viewer.organizations("place_staff")[0]
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = services.import_job_start(
                data=upload.read(),
                file_name=upload.name,
                encoding=form.cleaned_data["encoding"],
                operator=operator,
                by=request.user,
            )
        except services.FileProblem as problem:
            form.add_error("file", str(problem))
        else:
            return redirect(job)
    jobs = PlaceImportJob.objects.filter(created_by=request.user)[:10]
    return render(request, "places/import.html", {"form": form, "operator": operator, "jobs": jobs})


@require_GET
def import_job(request, token):
    """Show an import's progress, its dry-run report, or its outcome (htmx polls while it runs)."""
    job = access.get_import_job_for_user(request, token)
    template = "places/_import_status.html" if request.htmx else "places/import_job.html"
    return render(request, template, {"job": job, **_report_context(job)})


def _report_context(job: PlaceImportJob) -> dict:
    rows = job.report or []
    errors = [r for r in rows if r["type"] == "error"]
    changes = [r for r in rows if r["type"] in ("new", "update")]
    return {"error_rows": errors, "change_rows": changes[:500], "more_changes": max(0, len(changes) - 500)}


@require_POST
def import_confirm(request, token):
    """Apply a checked import, all rows or none."""
    job = access.get_import_job_for_user(request, token)
    try:
        job = services.import_job_confirm(job=job, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(job)


@require_GET
def export(request):
    """Download the places the viewer manages as CSV (UTF-8 with BOM or cp932) or XLSX."""
    viewer = viewer_for(request)
    access.require(selectors.can_import(viewer))
    form = ExportForm(request.GET or None)
    if not request.GET or not form.is_valid():
        return render(request, "places/export.html", {"form": form})
    queryset = selectors._with_related(selectors.editable_places(viewer)).order_by("id")
    exported = export_places(
        queryset, file_format=form.cleaned_data["file_format"], encoding=form.cleaned_data["encoding"]
    )
    if exported.replacements and not request.GET.get("confirm"):
        # cp932 cannot hold some characters: show which, and let the user choose to go on.
        query = request.GET.copy()
        query["confirm"] = "1"
        return render(
            request,
            "places/export.html",
            {"form": form, "replacements": exported.replacements[:200], "confirm_query": query.urlencode()},
        )
    access.log_places_export(request)
    filename = f"places_{timezone.localdate():%Y%m%d}.{exported.extension}"
    response = HttpResponse(exported.content, content_type=exported.content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
def hsds(request):
    """The directory as Open Referral HSDS 3.0 JSON (active places, public fields only)."""
    viewer = viewer_for(request)
    access.require(selectors.can_view_directory(viewer))
    places = selectors._with_related(Place.objects.filter(is_active=True)).order_by("id")
    document = build_directory(places)
    return JsonResponse(document, json_dumps_params={"ensure_ascii": False, "indent": 1})


@require_http_methods(["GET", "POST"])
def attendance(request, pk: int):
    """Record attendance at a place (its operator's staff only); lists recent records."""
    action = AccessLog.Action.CHANGE if request.method == "POST" else AccessLog.Action.VIEW
    place, page = access.get_place_for_attendance(request, pk, action=action)
    form = AttendanceForm(
        request.POST or None,
        participants=page.participants,
        refusals=page.refusals,
        initial={"on": timezone.localdate().isoformat()},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.attendance_record(
                place=place,
                participant_ref=data["participant_ref"],
                participant_label=form.participants[data["participant_ref"]],
                on=data["on"],
                status=data["status"],
                hours=data["hours"],
                note=data["note"],
                by=request.user,
                replace=data["replace"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("出欠を記録しました。"))
            return redirect("places:attendance", pk=place.pk)
    return render(
        request,
        "places/attendance.html",
        {"place": place, "form": form, "records": page.records, "participants": page.participants},
    )


@require_http_methods(["GET", "POST"])
def attendance_session(request, pk: int):
    """Record one session's attendance for every participant on one screen (its operator's staff only)."""
    action = AccessLog.Action.CHANGE if request.method == "POST" else AccessLog.Action.VIEW
    place, page = access.get_place_for_attendance(request, pk, action=action)
    day = _session_day(request)
    existing = {a.participant_ref: a for a in selectors.attendance_at(place, on=day)}
    form = AttendanceSessionForm(
        request.POST or None, participants=page.participants, existing=existing, initial={"on": day}
    )
    if request.method == "POST" and form.is_valid():
        try:
            recorded = services.attendance_record_session(
                place=place,
                on=form.cleaned_data["on"],
                entries=form.entries(),
                participants=form.participants,
                by=request.user,
                replace=form.cleaned_data["replace"],
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            messages.success(
                request,
                _("%(day)sの出欠を%(n)s人分記録しました。")
                % {"day": format_wareki(form.cleaned_data["on"]), "n": len(recorded)},
            )
            return redirect("places:attendance", pk=place.pk)
    return render(request, "places/attendance_session.html", {"place": place, "form": form, "day": day})


def _session_day(request):
    """The session's day from the form (or ?on=), today when absent or unreadable."""
    text = request.POST.get("on") or request.GET.get("on") or ""
    try:
        return parse_date(text) if text else timezone.localdate()
    except ValueError:
        return timezone.localdate()
