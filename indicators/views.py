"""The indicators dashboard, the drill-down to the records behind a figure, and the yearly report export."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from casework.access import case_list_person_ids, cases_for_user
from casework.choices import Role
from casework.indicators import CASES, FISCAL_MONTHS, MEETINGS, PLACES, REFERRALS, SCOPE_DEFINITION, Scope
from casework.models import Organization
from casework.selectors import _case_list_prefetch
from casework.viewers import viewer_for
from core.japanese import fiscal_year, fiscal_year_label
from core.spreadsheets import build_xlsx, encode_csv
from indicators import access, services
from indicators import report as yearly
from indicators.selectors import refresh_waiting, stored_report
from meetings.selectors import meetings_for_user
from places.selectors import visible_places
from referrals.access import person_ids_shown, referrals_for_user

CASE_ROLES = (Role.CASEWORKER, Role.SUPERVISOR)
# How far back the 年度 selector goes (the first 年度 of the system is whenever it started; keep it short).
YEARS_BACK = 5


@dataclass
class Choice:
    """The viewer's allowed scopes and the one chosen in this request."""

    municipal: bool
    organizations: list[Organization]
    scope: Scope
    fiscal_year: int
    threshold: int | None
    errors: list[str]


def _allowed_organizations(viewer) -> tuple[bool, list[Organization]]:
    """Return (municipal office?, organizations the viewer may choose); 404 for everyone else.

    The administrator submits the yearly 実績報告, so they see the municipality-wide figures (counts
    only: the drill-down to the records stays with case-working staff).
    """
    orgs = [m.organization for m in viewer.memberships if m.role in CASE_ROLES]
    if viewer.is_administrator or any(o.kind == Organization.Kind.MUNICIPAL for o in orgs):
        return True, list(Organization.objects.exclude(kind=Organization.Kind.PLACE_OPERATOR).order_by("kind", "name"))
    own = [o for o in dict.fromkeys(orgs) if o.kind in (Organization.Kind.WINDOW, Organization.Kind.COORDINATOR)]
    if not own:
        raise Http404
    return False, own


def _choose(request) -> Choice:
    """Read 年度, organization and suppression from the query string; bad values get a message and the default."""
    viewer = viewer_for(request)
    municipal, organizations = _allowed_organizations(viewer)
    errors = []
    current = fiscal_year(timezone.localdate())
    fy = current
    raw = request.GET.get("fy", "")
    if raw:
        if raw.isascii() and raw.isdigit() and current - 50 <= int(raw) <= current + 1:
            fy = int(raw)
        else:
            errors.append(_("年度の指定が正しくありません。今年度を表示しています。"))
    by_id = {o.pk: o for o in organizations}
    organization = None if municipal else organizations[0]
    raw = request.GET.get("org", "")
    if raw:
        if raw.isascii() and raw.isdigit() and int(raw) in by_id:
            organization = by_id[int(raw)]
        else:
            errors.append(_("選べない機関が指定されました。"))
    threshold = None
    raw = request.GET.get("suppress", "")
    if raw:
        if raw.isascii() and raw.isdigit() and 2 <= int(raw) <= 20:
            threshold = int(raw)
        else:
            threshold = yearly.DEFAULT_SUPPRESSION_THRESHOLD
    return Choice(municipal, organizations, Scope(organization), fy, threshold, errors)


def _query(choice: Choice, **extra) -> str:
    from urllib.parse import urlencode

    params = {"fy": choice.fiscal_year}
    if choice.scope.organization is not None:
        params["org"] = choice.scope.organization.pk
    if choice.threshold:
        params["suppress"] = choice.threshold
    params.update({k: v for k, v in extra.items() if v not in (None, "")})
    return urlencode(params)


def _chart_data(report) -> dict:
    """Return what dashboard.js draws: per chart, labels and series (the tables show the same numbers)."""
    months = yearly.month_headers()
    charts = {}
    for business in report.businesses:
        for group in business.groups:
            if group.chart == "months":
                charts[group.key] = {
                    "type": "line",
                    "labels": months,
                    "series": [{"label": str(r.figure.label), "data": r.counts.months} for r in group.rows],
                }
            elif group.chart == "totals":
                charts[group.key] = {
                    "type": "bar",
                    "labels": [str(r.figure.label) for r in group.rows],
                    "series": [{"label": _("年度計"), "data": [r.counts.total for r in group.rows]}],
                }
    return charts


def _shown_row(row, shown):
    """A dashboard table row: the figure, its total and (month, value) pairs, suppressed for publication."""
    total, months = shown[row.key]
    return row, total, list(zip(FISCAL_MONTHS, months, strict=False))


@require_GET
def dashboard(request):
    """Show the 年度's figures for the municipality or one organization, as charts and tables."""
    choice = _choose(request)
    report = stored_report(choice.fiscal_year, choice.scope)
    current = fiscal_year(timezone.localdate())
    years = [(y, fiscal_year_label(y)) for y in range(current, current - YEARS_BACK - 1, -1)]
    if choice.fiscal_year not in dict(years):
        years.append((choice.fiscal_year, fiscal_year_label(choice.fiscal_year)))
    query = _query(choice)
    for business in report.businesses:
        for group in business.groups:
            for row in group.rows:
                # One reverse() per figure, shared by the row's thirteen links (601 url tags cost 40–60 ms).
                row.drill_url = f"{reverse('indicators:drill', args=[row.key])}?{query}"
    shown = yearly.published(report, choice.threshold)
    suppressed_report = [
        (
            business,
            [
                (
                    group,
                    [_shown_row(row, shown) for row in group.rows],
                )
                for group in business.groups
            ],
        )
        for business in report.businesses
    ]
    return render(
        request,
        "indicators/dashboard.html",
        {
            "choice": choice,
            "report": report,
            "tables": suppressed_report,
            "months": yearly.month_headers(),
            "years": years,
            "query": query,
            "scope_definition": SCOPE_DEFINITION,
            "charts": _chart_data(report) if not choice.threshold else {},
            "threshold_default": yearly.DEFAULT_SUPPRESSION_THRESHOLD,
            "refresh_waiting": refresh_waiting(),
        },
    )


def refresh(request):
    """Queue a recount of the stored figures (the dashboard says when it finished); nothing is shown."""
    choice = _choose(request)  # the dashboard's viewers only; everyone else 404
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    services.aggregates_refresh_request(by=request.user)
    messages.success(request, _("集計の更新を依頼しました。終わると集計日時が新しくなります。"))
    return redirect(f"{reverse('indicators:dashboard')}?{_query(choice)}")


def _visible_records(request, viewer, drill: str, ids: list[int]):
    """Return (records the viewer may open, person ids they show) among the figure's records."""
    if drill == CASES:
        rows = list(_case_list_prefetch(cases_for_user(viewer).filter(pk__in=ids)).order_by("-opened_on", "-id"))
        return rows, case_list_person_ids(rows)
    if drill == REFERRALS:
        rows = list(
            referrals_for_user(viewer)
            .filter(pk__in=ids)
            .select_related("sender_organization", "receiver_organization", "place")
            .order_by("-sent_at", "-id")
        )
        return rows, person_ids_shown(rows)
    if drill == MEETINGS:
        return list(meetings_for_user(request.user).filter(pk__in=ids)), []
    if drill == PLACES:
        return list(visible_places(viewer).filter(pk__in=ids).select_related("operator")), []
    return [], []


@require_GET
def drill(request, key: str):
    """List the records behind one figure that the viewer may open, logging the persons shown."""
    choice = _choose(request)
    viewer = viewer_for(request)
    if not viewer.works_cases:
        raise Http404  # the administrator's figures are counts; records are for case-working staff
    figure = yearly.find_figure(key, choice.fiscal_year, choice.scope)
    if figure is None:
        raise Http404
    month = None
    raw = request.GET.get("month", "")
    if raw:
        if not (raw.isascii() and raw.isdigit() and int(raw) in FISCAL_MONTHS):
            raise Http404
        month = int(raw)
    ids = figure.record_ids(month)
    rows, person_ids = _visible_records(request, viewer, figure.drill, ids)
    # Lists of cases and referrals show persons; places and meeting titles do not.
    if rows and figure.drill in (CASES, REFERRALS):
        access.log_drill(request, drill=figure.drill, key=key, person_ids=person_ids)
    return render(
        request,
        "indicators/drill.html",
        {
            "choice": choice,
            "figure": figure,
            "month": month,
            "label": fiscal_year_label(choice.fiscal_year),
            "total": len(ids),
            "rows": rows,
            "hidden": len(ids) - len(rows),
            "query": _query(choice),
        },
    )


@require_GET
def export(request):
    """Download the 年度's report: XLSX with one sheet per business, or CSV (UTF-8 with BOM or cp932)."""
    choice = _choose(request)
    fmt = request.GET.get("format", "xlsx")
    encoding = request.GET.get("encoding", "utf-8-sig")
    if fmt not in {"xlsx", "csv"} or encoding not in {"utf-8-sig", "cp932"}:
        raise Http404
    report = stored_report(choice.fiscal_year, choice.scope)
    access.log_report_export(request, fiscal_year=choice.fiscal_year, scope=choice.scope)
    stem = f"jisseki_{choice.fiscal_year}"
    if fmt == "xlsx":
        data = build_xlsx(yearly.export_sheets(report, choice.threshold))
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        name = f"{stem}.xlsx"
    else:
        header, rows = yearly.export_csv_rows(report, choice.threshold)
        data, _replacements = encode_csv(header, rows, encoding=encoding)
        content_type = f"text/csv; charset={'Shift_JIS' if encoding == 'cp932' else 'utf-8'}"
        name = f"{stem}.csv"
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
