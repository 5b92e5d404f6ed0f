"""Reads of the indicators app: the yearly report from the stored aggregates, and their freshness."""

from __future__ import annotations

from collections import defaultdict

from casework.indicators import FISCAL_MONTHS, Counts, Scope
from indicators import report as yearly
from indicators.models import CURRENT, YEAR, AggregateRun, FigureCount


def last_refresh() -> AggregateRun | None:
    """Return the latest finished refresh (its time is the freshness the pages state), or None."""
    return AggregateRun.objects.filter(ok=True, finished_at__isnull=False).order_by("-finished_at", "-id").first()


def refresh_waiting() -> bool:
    """Whether a refresh was asked for and has not finished yet."""
    return AggregateRun.objects.filter(finished_at__isnull=True).exists()


def stored_report(fiscal_year: int, scope: Scope) -> yearly.Report:
    """Return the 年度's report with every count read from the stored aggregates (one query for the counts)."""
    rows = FigureCount.objects.filter(fiscal_year=fiscal_year, organization_id=scope.organization_id).values_list(
        "figure", "month", "value"
    )
    current = FigureCount.objects.filter(fiscal_year=CURRENT, organization__isnull=True).values_list(
        "figure", "month", "value"
    )
    stored: dict[str, dict[int, int]] = defaultdict(dict)
    for figure, month, value in [*rows, *current]:
        stored[figure][month] = value
    run = last_refresh()

    def counts_of(figure) -> Counts:
        values = stored.get(figure.key, {})
        if not figure.monthly:
            return Counts(values.get(YEAR, 0), [])
        return Counts(values.get(YEAR, 0), [values.get(m, 0) for m in FISCAL_MONTHS])

    report = yearly.build_report(fiscal_year, scope, counts_of=counts_of)
    report.refreshed_at = run.finished_at if run else None
    key = f"{fiscal_year}:{scope.organization_id or 'all'}"
    report.median_response_days = run.medians.get(key) if run else None
    return report
