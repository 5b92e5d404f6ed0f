"""Case migration screens (administrators only): upload, map columns, dry run, apply, history."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from casework.forms import MigrationMappingForm, MigrationUploadForm
from casework.models import MigrationRecord, MigrationRun
from casework.services.migration import (
    FIELDS,
    FileProblem,
    migration_run_apply,
    migration_run_cancel,
    migration_run_check,
    migration_run_start,
)
from casework.viewers import viewer_for

KIND_LABELS = dict(MigrationRecord.Kind.choices)


def _require_administrator(request) -> None:
    if not viewer_for(request).is_administrator:
        raise Http404


def _run(request, pk: int) -> MigrationRun:
    _require_administrator(request)
    return get_object_or_404(MigrationRun.objects.select_related("source", "created_by"), pk=pk)


@require_http_methods(["GET", "POST"])
def migration_home(request):
    """Upload a file from an older system and see the import history."""
    _require_administrator(request)
    form = MigrationUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            run = migration_run_start(
                source_name=form.cleaned_data["source_name"],
                data=upload.read(),
                file_name=upload.name,
                by=request.user,
            )
        except FileProblem as problem:
            form.add_error("file", str(problem))
        else:
            return redirect("casework:migration_mapping", pk=run.pk)
    runs = MigrationRun.objects.select_related("source", "created_by")[:30]
    return render(request, "casework/migration/home.html", {"form": form, "runs": runs, "fields": FIELDS})


@require_http_methods(["GET", "POST"])
def migration_mapping(request, pk: int):
    """Choose which column of the file holds which item; the choice is remembered for the source."""
    run = _run(request, pk)
    if run.status in {MigrationRun.Status.APPLIED, MigrationRun.Status.CANCELLED}:
        return redirect(run)
    form = MigrationMappingForm(request.POST or None, headers=run.headers, initial_map=run.column_map)
    if request.method == "POST" and form.is_valid():
        try:
            migration_run_check(run=run, column_map=form.column_map(), by=request.user)
        except (ValidationError, FileProblem) as error:
            form.add_error(None, error.messages if isinstance(error, ValidationError) else str(error))
        else:
            return redirect(run)
    return render(request, "casework/migration/mapping.html", {"run": run, "form": form})


@require_http_methods(["GET"])
def migration_run(request, pk: int):
    """The dry run's report (row numbers and columns only) or the applied run's counts."""
    run = _run(request, pk)
    counts = [(KIND_LABELS[kind], c.get("new", 0), c.get("unchanged", 0)) for kind, c in (run.counts or {}).items()]
    return render(request, "casework/migration/run.html", {"run": run, "counts": counts})


@require_POST
def migration_apply(request, pk: int):
    """Apply a checked run: every row or none."""
    run = _run(request, pk)
    try:
        migration_run_apply(run=run, by=request.user)
    except (ValidationError, FileProblem) as error:
        messages.error(request, " ".join(error.messages) if isinstance(error, ValidationError) else str(error))
    else:
        messages.success(request, _("取り込みを反映しました。"))
    return redirect(run)


@require_POST
def migration_cancel(request, pk: int):
    """Give up a run that was not applied."""
    run = _run(request, pk)
    try:
        migration_run_cancel(run=run, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("取り込みを取り消しました。ファイルは削除しました。"))
    return redirect("casework:migration")
