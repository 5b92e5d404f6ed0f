"""The auditor's screens: log search, a person's history, review reports, exports, chain status.

Auditor role only (everyone else gets 404). Every screen writes its own access-log row before
showing anything, and is refused with 503 if that row cannot be written (fail closed).
"""

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from urllib.parse import urlencode

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from casework.audit import selectors
from casework.audit.access import log_audit_denied, log_audit_screen
from casework.audit.forms import ExportForm, LogFilterForm, PersonHistoryForm, ReportRangeForm
from casework.models import AccessLog
from casework.viewers import viewer_for
from core.spreadsheets import build_xlsx, encode_csv


def auditor_only(view: Callable) -> Callable:
    """Let only auditors in (404 for everyone else) and refuse the page if its log row fails."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        viewer = viewer_for(request)
        if not viewer.is_auditor:
            log_audit_denied(request)
            raise Http404
        return view(request, viewer, *args, **kwargs)

    return require_GET(wrapper)


def _query_without(request, *names: str) -> str:
    params = request.GET.copy()
    for name in names:
        params.pop(name, None)
    return params.urlencode()


@auditor_only
def log_search(request, viewer):
    """Search the access log by actor, organization, person, object, action, outcome, basis and period."""
    form = LogFilterForm(request.GET or None)
    page = None
    case, case_persons = None, []
    if not request.GET:
        form = LogFilterForm()
        page = selectors.log_page(selectors.log_rows(), None)
        log_audit_screen(viewer, action=AccessLog.Action.LIST, person_ids=page.person_ids)
    elif form.is_valid():
        page = selectors.log_page(
            selectors.filter_log(form.cleaned_data, viewer_user=request.user), form.cleaned_data["after"]
        )
        case, case_persons = selectors.case_for_number(form.cleaned_data.get("case_number"))
        action = AccessLog.Action.SEARCH if form.has_filters() else AccessLog.Action.LIST
        log_audit_screen(
            viewer,
            action=action,
            person_ids=sorted(set(page.person_ids) | set(case_persons)),
            reason=form.describe(),
        )
    status = 200 if page is not None else 400
    next_query = None
    if page and page.next_cursor:
        params = request.GET.copy()
        params["after"] = page.next_cursor
        next_query = params.urlencode()
    return render(
        request,
        "casework/audit/log.html",
        {
            "form": form,
            "page": page,
            "next_query": next_query,
            "searched_case": case,
            "searched_case_persons": case_persons,
            "export_query": _query_without(request, "after", "format"),
            "formats": ExportForm.FORMATS,
            "tab": "log",
        },
        status=status,
    )


@auditor_only
def log_export(request, viewer):
    """Download the filtered log as CSV (UTF-8 with BOM, or cp932) or XLSX; the export is logged with its persons."""
    form = ExportForm(request.GET)
    error = None
    if form.is_valid():
        rows = selectors.export_rows(selectors.filter_log(form.cleaned_data, viewer_user=request.user))
        if len(rows) > selectors.EXPORT_LIMIT:
            error = _("出力できるのは %(n)s 行までです。期間などで絞り込んでください。") % {
                "n": f"{selectors.EXPORT_LIMIT:,}"
            }
        else:
            fmt = form.cleaned_data["format"]
            log_audit_screen(
                viewer,
                action=AccessLog.Action.EXPORT,
                person_ids=selectors.person_ids_of(rows),
                object_id=fmt,
                reason=form.describe(),
            )
            return _export_response(rows, fmt)
    return render(
        request,
        "casework/audit/log.html",
        {"form": form, "page": None, "export_error": error, "formats": ExportForm.FORMATS, "tab": "log"},
        status=400,
    )


def _export_response(rows: list[AccessLog], fmt: str) -> HttpResponse:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    records = [selectors.export_record(row) for row in rows]
    if fmt == "xlsx":
        body = build_xlsx([("アクセス記録", selectors.EXPORT_HEADER, records)])
        response = HttpResponse(body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response["Content-Disposition"] = f'attachment; filename="accesslog-{stamp}.xlsx"'
        return response
    encoding = "cp932" if fmt == "csv_cp932" else "utf-8-sig"
    body, replaced = encode_csv(selectors.EXPORT_HEADER, records, encoding=encoding)
    if replaced:
        # cp932 cannot hold characters such as 𠮷: say which cells got 〓 in a first comment line,
        # numbering lines as they appear in the file (the header is line 2).
        cells = "、".join(f"{r.row + 1}行{r.column}列 U+{ord(r.character):04X}" for r in replaced[:200])
        more = f" ほか{len(replaced) - 200}件" if len(replaced) > 200 else ""
        note = f"# cp932で表せない文字を〓に置き換えました（{len(replaced)}件）: {cells}{more}\r\n"
        body = note.encode("cp932") + body
    response = HttpResponse(body, content_type=f"text/csv; charset={'Shift_JIS' if fmt == 'csv_cp932' else 'utf-8'}")
    response["Content-Disposition"] = f'attachment; filename="accesslog-{stamp}.csv"'
    response["X-Replaced-Characters"] = str(len(replaced))
    return response


@auditor_only
def person_history(request, viewer):
    """Show who looked at one person: per actor, counts and first/last access, then the latest rows."""
    form = PersonHistoryForm(request.GET or None)
    context = {"form": form, "tab": "person"}
    status = 200
    if request.GET and form.is_valid():
        person_id = form.cleaned_data["person"]
        start, end = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
        actors = selectors.person_history(person_id, start, end)
        latest = selectors.log_page(selectors.person_rows(person_id, start, end), None)
        log_audit_screen(viewer, action=AccessLog.Action.SEARCH, person_ids=[person_id], reason=f"person={person_id}")
        search_query = urlencode(
            {"person": person_id, **{k: request.GET[k] for k in ("date_from", "date_to") if request.GET.get(k)}}
        )
        context.update(person_id=person_id, actors=actors, latest=latest, search_query=search_query)
    elif request.GET:
        status = 400
    return render(request, "casework/audit/person_history.html", context, status=status)


def _default_range() -> dict:
    today = timezone.localdate()
    return {"date_from": (today - timedelta(days=29)).isoformat(), "date_to": today.isoformat()}


@auditor_only
def report(request, viewer, slug: str):
    """Show one review report for a period (default: the last 30 days)."""
    by_slug = {r.slug: r for r in selectors.reports()}
    if slug not in by_slug:
        raise Http404
    current = by_slug[slug]
    form = ReportRangeForm(request.GET if request.GET else _default_range())
    context = {"form": form, "report": current, "reports": by_slug.values(), "tab": "reports"}
    if not form.is_valid():
        return render(request, "casework/audit/report.html", context, status=400)
    start, end = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
    if slug == "denied-spikes":
        context["spikes"] = selectors.denied_spikes(start, end)
        shown: list[int] = []
    elif slug == "unused-accounts":
        context["accounts"] = list(selectors.unused_accounts()[: selectors.REPORT_LIMIT + 1])
        context["truncated"] = len(context["accounts"]) > selectors.REPORT_LIMIT
        context["accounts"] = context["accounts"][: selectors.REPORT_LIMIT]
        shown = []
    else:
        rows = {
            "break-glass": selectors.break_glass_uses,
            "outside-caseload": selectors.outside_caseload,
            "off-hours": selectors.off_hours_bulk,
            "role-changes": selectors.role_changes,
        }[slug](start, end)
        fetched = selectors.with_labels(list(rows[: selectors.REPORT_LIMIT + 1]))
        context["rows"] = fetched[: selectors.REPORT_LIMIT]
        context["truncated"] = len(fetched) > selectors.REPORT_LIMIT
        shown = selectors.person_ids_of(context["rows"])
    log_audit_screen(viewer, action=AccessLog.Action.LIST, person_ids=shown, object_id=slug, reason=f"{start}..{end}")
    return render(request, "casework/audit/report.html", context)


@auditor_only
def chain(request, viewer):
    """Verify the last days' hash chains and show the result per day."""
    statuses = selectors.chain_status()
    log_audit_screen(viewer, action=AccessLog.Action.VIEW, object_id="chain")
    return render(request, "casework/audit/chain.html", {"statuses": statuses, "tab": "chain"})
