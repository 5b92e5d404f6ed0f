"""The yearly report (実績報告): every app's figures composed into the five businesses, plus its export."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.utils.translation import gettext as _

from casework import indicators as casework
from casework.indicators import FISCAL_MONTHS, Counts, Figure, Period, Scope
from core.japanese import fiscal_year_label
from indicators import suppression
from meetings import indicators as meetings
from places import indicators as places
from referrals import indicators as referrals

DEFAULT_SUPPRESSION_THRESHOLD = 3
SUPPRESSED = "-"
# Exports neutralise every cell starting with - or － (formula injection), which would turn "-" into
# "'-"; U+2010 HYPHEN reads as the same dash, is no formula trigger and exists in cp932 (0x815D).
SUPPRESSED_IN_EXPORT = "\u2010"


@dataclass
class Row:
    """One figure with its counts, as a table row."""

    figure: Figure
    counts: Counts

    @property
    def key(self) -> str:
        return self.figure.key


@dataclass
class Group:
    """Figures read together (a table, and a chart when `chart` is set)."""

    key: str
    title: str
    rows: list[Row]
    # "months": one line per figure over 4月…3月; "totals": one bar per figure for the year.
    chart: str = ""
    notes: list[str] = field(default_factory=list)


@dataclass
class Business:
    """One of the five businesses of 重層的支援体制整備事業: one sheet of the export."""

    key: str
    title: str
    groups: list[Group]


@dataclass
class Report:
    fiscal_year: int
    scope: Scope
    businesses: list[Business]
    median_response_days: float | None
    # When the stored aggregates it was read from were counted (None: counted live, now).
    refreshed_at: datetime | None = None

    @property
    def label(self) -> str:
        return fiscal_year_label(self.fiscal_year)


def _group(key: str, title: str, figures: list[Figure], chart: str = "", notes=()) -> Group:
    return Group(key, title, [Row(f, f.counts()) for f in figures], chart, list(notes))


def _figure_sets(period: Period, scope: Scope) -> list[tuple[str, str, list[tuple[str, str, object, str]]]]:
    """Return (business key, title, [(group key, group title, builder, chart)]) without running any count."""
    return [
        (
            "comprehensive",
            _("包括的相談支援"),
            [
                ("consultations", _("新規相談"), lambda: casework.consultation_figures(period, scope), "months"),
                ("domains", _("分野別の新規相談"), lambda: casework.domain_figures(period, scope), "totals"),
                ("tags", _("世帯の状況"), lambda: casework.household_tag_figures(period, scope), "totals"),
                ("routes", _("相談経路"), lambda: casework.intake_route_figures(period, scope), "totals"),
                ("closures", _("終結・中断"), lambda: casework.closure_figures(period, scope), ""),
                (
                    "contacts",
                    _("支援経過記録の件数（機関別の業務量）"),
                    lambda: casework.contact_workload(period, scope),
                    "",
                ),
            ],
        ),
        (
            "coordination",
            _("多機関協働"),
            [
                ("plans", _("支援プラン"), lambda: casework.plan_figures(period, scope), "months"),
                ("meetings", _("会議"), lambda: meetings.meeting_figures(period, scope), ""),
                ("referrals", _("紹介"), lambda: referrals.referral_figures(period, scope), "months"),
                (
                    "meeting_workload",
                    _("会議への参加（機関別の業務量）"),
                    lambda: meetings.meeting_workload(period, scope),
                    "",
                ),
            ],
        ),
        (
            "outreach",
            _("アウトリーチ"),
            [
                (
                    "outreach",
                    _("アウトリーチ等を通じた継続的支援"),
                    lambda: casework.outreach_figures(period, scope),
                    "months",
                )
            ],
        ),
        (
            "participation",
            _("参加支援"),
            [("participation", _("参加支援"), lambda: referrals.participation_figures(period, scope), "months")],
        ),
        (
            "community",
            _("地域づくり"),
            [("community", _("居場所（市全体）"), lambda: places.community_figures(period), "")],
        ),
    ]


def build_report(fiscal_year: int, scope: Scope, counts_of: Callable[[Figure], Counts] | None = None) -> Report:
    """Return every figure of the 年度 for the municipality or one organization.

    Without `counts_of` every figure is counted live from the raw rows (the recount the stored
    aggregates are tested against); `indicators.selectors.stored_report` passes the stored counts.
    """
    period = Period(fiscal_year)
    businesses = []
    for key, title, groups in _figure_sets(period, scope):
        built = []
        for gkey, gtitle, builder, chart in groups:
            figures = builder()
            if counts_of is not None:
                for figure in figures:
                    figure.precomputed = counts_of(figure)
            built.append(_group(gkey, gtitle, figures, chart))
        businesses.append(Business(key, title, built))
    return Report(
        fiscal_year=fiscal_year,
        scope=scope,
        businesses=businesses,
        median_response_days=None if counts_of else referrals.median_response_days(period, scope),
    )


def find_figure(key: str, fiscal_year: int, scope: Scope) -> Figure | None:
    """Return the figure with that key (for a drill-down), or None."""
    period = Period(fiscal_year)
    for _key, _title, groups in _figure_sets(period, scope):
        for _gkey, _gtitle, builder, _chart in groups:
            for figure in builder():
                if figure.key == key:
                    return figure
    return None


# ---------------------------------------------------------------------------
# Publication: small-number suppression and the export tables
# ---------------------------------------------------------------------------


def published(report: Report, threshold: int | None, marker: str = SUPPRESSED) -> dict[str, tuple[object, list]]:
    """Return every figure's (total, months) for publication, keyed by figure.

    Primary cells (0 < n < threshold) and the complementary cells that keep them from being worked back from
    a row's 年度計, its zeros, or rows that add up to another row are replaced by the marker.
    """
    rows, parts = {}, {}
    for business in report.businesses:
        for group in business.groups:
            for row in group.rows:
                rows[row.key] = (row.counts.total, list(row.counts.months))
                if row.figure.adds_up_to:
                    parts.setdefault(row.figure.adds_up_to, []).append(row.key)
    return suppression.apply(rows, threshold, marker, parts)


def month_headers() -> list[str]:
    return [_("%(m)d月") % {"m": m} for m in FISCAL_MONTHS]


def sheet_header() -> list[str]:
    return [_("区分"), _("項目"), _("年度計"), *month_headers()]


def business_rows(business: Business, shown: dict[str, tuple[object, list]]) -> list[list]:
    """Return one business's export rows: group, figure label, year total and 4月…3月."""
    rows = []
    for group in business.groups:
        for row in group.rows:
            total, months = shown[row.key]
            rows.append([group.title, str(row.figure.label), total, *(months or [""] * 12)])
    return rows


def _extra_rows(report: Report, business_key: str) -> list[list]:
    """Rows that are not month series: the median response time and the closure reasons."""
    blank = [""] * 12
    if business_key == "coordination":
        median = report.median_response_days
        return [[_("紹介"), _("回答までの日数（中央値）"), "" if median is None else median, *blank]]
    return []


def export_sheets(report: Report, threshold: int | None) -> list[tuple[str, list[str], list[list]]]:
    """Return the workbook: one sheet per business, the title row first."""
    sheets = []
    shown = published(report, threshold, SUPPRESSED_IN_EXPORT)
    for business in report.businesses:
        rows = business_rows(business, shown) + _extra_rows(report, business.key)
        sheets.append((business.title, sheet_header(), rows))
    return sheets


def export_csv_rows(report: Report, threshold: int | None) -> tuple[list[str], list[list]]:
    """Return the single-table CSV: the business name in the first column, then the sheet columns."""
    rows = []
    for title, _header, sheet_rows in export_sheets(report, threshold):
        rows.extend([title, *r] for r in sheet_rows)
    return [_("事業"), *sheet_header()], rows
