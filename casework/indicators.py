"""Figures of the casework kernel by 年度 and month, and the small machinery every app's figures share.

A Figure is a pure read: a queryset of the records behind it (already limited to the period and the
organization scope), the date that places a record in a month, and what is counted (distinct).
`Figure.counts()` aggregates in the database, one query for the year total and the twelve months;
`Figure.record_ids()` lists the records a drill-down shows (the screen then keeps what the viewer may open).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache

from django.db import connection
from django.db.models import Count, DateTimeField, Q, QuerySet
from django.db.models.functions import ExtractMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casework.choices import Domain
from casework.models import (
    Case,
    CaseDomain,
    CaseState,
    CaseSubject,
    CaseTeamMembership,
    CaseTransition,
    ContactRecord,
    Household,
    IntakeRoute,
    Organization,
    SupportPlan,
)
from core.japanese import fiscal_year, fiscal_year_range

# Month columns of every report: 4月 … 3月.
FISCAL_MONTHS = (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)

# What a drill-down lists for a figure: cases, referrals, meetings or places.
CASES, REFERRALS, MEETINGS, PLACES = "case", "referral", "meeting", "place"

# The organization scope, shown on the dashboard so readers know what "our figures" means.
SCOPE_DEFINITION = _(
    "機関別の数値は、その機関が主担当機関であるケース、またはケースチームに参加した（している）ケースを対象にします。"
    "紹介はその機関が紹介元か紹介先のもの、会議はその機関が招集したか参加者を出したもの、"
    "支援経過記録・会議参加の業務量はその機関が記録・参加したものです。居場所の数（地域づくり）は常に市全体です。"
)


@dataclass(frozen=True)
class Period:
    """One 年度 (April–March), optionally narrowed to one month of it."""

    fiscal_year: int
    month: int | None = None

    @property
    def first_day(self) -> date:
        start, end = fiscal_year_range(self.fiscal_year)
        if self.month is None:
            return start
        return date(self.fiscal_year if self.month >= 4 else self.fiscal_year + 1, self.month, 1)

    @property
    def last_day(self) -> date:
        start, end = fiscal_year_range(self.fiscal_year)
        if self.month is None:
            return end
        first = self.first_day
        following = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
        return following - timedelta(days=1)

    def filter(self, model, date_field: str) -> Q:
        """Return the condition placing a record's date (or local date of a datetime) in the period."""
        if _is_datetime(model, date_field):
            # Aware bounds in the site's time zone: 3月31日 23:59 JST belongs to the old 年度.
            start = timezone.make_aware(datetime.combine(self.first_day, time.min))
            end = timezone.make_aware(datetime.combine(self.last_day + timedelta(days=1), time.min))
            return Q(**{f"{date_field}__gte": start, f"{date_field}__lt": end})
        return Q(**{f"{date_field}__gte": self.first_day, f"{date_field}__lte": self.last_day})


def _is_datetime(model, path: str) -> bool:
    """Whether a (possibly related) field path ends on a DateTimeField."""
    parts = path.split("__")
    for part in parts[:-1]:
        model = model._meta.get_field(part).related_model
    return isinstance(model._meta.get_field(parts[-1]), DateTimeField)


@dataclass
class Counts:
    """A figure's year total and its twelve month values in 4月…3月 order."""

    total: int
    months: list[int]


@dataclass
class Figure:
    """One reported number: the records behind it, the date that places them, and what is counted."""

    key: str
    label: str
    queryset: QuerySet
    date_field: str
    # Counted distinct: "pk" gives 延べ (occurrences), a person path gives 実人数.
    count: str = "pk"
    # What the drill-down lists and the path from a record to its id.
    drill: str = CASES
    drill_field: str = "pk"
    note: str = ""
    # A figure without months (e.g. places accepting referrals now) shows its total only.
    monthly: bool = True
    # The key of the figure this one is a part of (its rows and their siblings add up to it), so publication
    # suppression protects the cells of both (indicators.suppression).
    adds_up_to: str = ""
    # Counts read together with other figures: a Counts, or a function returning them (run only when
    # the counts are asked for, so a report read from the stored aggregates runs none of them).
    precomputed: Counts | Callable[[], Counts] | None = field(default=None, repr=False)

    def counts(self) -> Counts:
        """Return the year total and the month values in one aggregate query."""
        if callable(self.precomputed):
            self.precomputed = self.precomputed()
        if self.precomputed is not None:
            return self.precomputed
        if not self.monthly:
            total = self.queryset.aggregate(n=Count(self.count, distinct=True))["n"]
            return Counts(total, [])
        return grouped_counts(self.queryset, None, self.date_field, self.count).get(None, Counts(0, [0] * 12))

    def record_ids(self, month: int | None = None) -> list[int]:
        """Return the ids of the records behind the figure (for the year, or one month of it)."""
        qs = self.queryset
        if month is not None and self.monthly:
            qs = qs.filter(**{f"{self.date_field}__month": month})
        return sorted({pk for pk in qs.values_list(self.drill_field, flat=True) if pk is not None})


@dataclass(frozen=True)
class Scope:
    """Whose figures: the whole municipality (organization None) or one organization."""

    organization: Organization | None = None

    @property
    def organization_id(self) -> int | None:
        return self.organization.pk if self.organization else None


def scoped_cases(scope: Scope) -> QuerySet[Case]:
    """Return the cases in scope: all, or those the organization leads or was ever on the team of."""
    if scope.organization is None:
        return Case.objects.all()
    team = CaseTeamMembership.objects.filter(organization=scope.organization).values("case_id")
    return Case.objects.filter(Q(lead_organization=scope.organization) | Q(pk__in=team))


def _case_figure(
    key, label, period: Period, scope: Scope, *, extra: Q | None = None, count="pk", note="", adds_up_to=""
) -> Figure:
    qs = scoped_cases(scope).filter(period.filter(Case, "opened_on"))
    if extra is not None:
        qs = qs.filter(extra)
    return Figure(key, label, qs, "opened_on", count=count, note=note, adds_up_to=adds_up_to)


def _households_with_tag(tag: str) -> Q:
    """Return the condition "the case's household carries the tag" on either database."""
    if connection.vendor == "postgresql":
        return Q(household__tags__contains=[tag])
    # SQLite (the embedded pilot) has no JSON containment lookup; households are few there.
    ids = [pk for pk, tags in Household.objects.values_list("pk", "tags") if tag in (tags or [])]
    return Q(household_id__in=ids)


def consultation_figures(period: Period, scope: Scope) -> list[Figure]:
    """新規相談: cases opened in the period as 延べ and their subject persons as 実人数."""
    return [
        _case_figure(
            "casework.new_cases", _("新規相談（延べ件数）"), period, scope, note=_("受付日が期間内のケースの件数")
        ),
        _case_figure(
            "casework.new_persons",
            _("新規相談（実人数）"),
            period,
            scope,
            count="subject_rows__person",
            note=_("期間内に受け付けたケースの対象者（同じ人は1人）"),
        ),
    ]


def domain_figures(period: Period, scope: Scope) -> list[Figure]:
    """Cases opened in the period by domain, and how many cross two domains or more."""
    figures = [
        _case_figure(
            f"casework.domain.{code}",
            label,
            period,
            scope,
            extra=Q(pk__in=CaseDomain.objects.filter(domain=code).values("case_id")),
        )
        for code, label in Domain.choices
    ]

    # Every domain's counts in one GROUP BY over the domain rows (one (case, domain) row each), instead
    # of one aggregate per domain; each figure keeps its queryset for the drill-down.
    @cache
    def by_domain() -> dict[str, Counts]:
        counts_of: dict[str, Counts] = {}
        rows = (
            CaseDomain.objects.filter(
                case_id__in=scoped_cases(scope).filter(period.filter(Case, "opened_on")).values("pk")
            )
            .annotate(month_opened=ExtractMonth("case__opened_on"))
            .values("domain", "month_opened")
            .annotate(n=Count("case_id"))
            .order_by()
        )
        for row in rows:
            counts = counts_of.setdefault(row["domain"], Counts(0, [0] * 12))
            counts.total += row["n"]
            if row["month_opened"] is not None:
                counts.months[FISCAL_MONTHS.index(row["month_opened"])] += row["n"]
        return counts_of

    for figure, (code, _label) in zip(figures, Domain.choices, strict=True):
        figure.precomputed = lambda code=code: by_domain().get(code, Counts(0, [0] * 12))
    crossing = CaseDomain.objects.values("case_id").annotate(n=Count("domain")).filter(n__gte=2).values("case_id")
    figures.append(
        _case_figure(
            "casework.cross_domain",
            _("複数分野にまたがるケース"),
            period,
            scope,
            extra=Q(pk__in=crossing),
            note=_("分野が2つ以上のケース"),
        )
    )
    return figures


def household_tag_figures(period: Period, scope: Scope) -> list[Figure]:
    """Cases opened in the period whose household carries each tag."""
    return [
        _case_figure(f"casework.tag.{code}", label, period, scope, extra=_households_with_tag(code))
        for code, label in Household.Tag.choices
    ]


def intake_route_figures(period: Period, scope: Scope) -> list[Figure]:
    """Cases opened in the period by 相談経路."""
    return [
        # Each case has one route: the routes add up to the new cases (fewer if a route was left out).
        _case_figure(
            f"casework.route.{code}",
            label,
            period,
            scope,
            extra=Q(intake_route=code),
            adds_up_to="casework.new_cases",
        )
        for code, label in IntakeRoute.choices
    ]


def plan_figures(period: Period, scope: Scope) -> list[Figure]:
    """Support plans drafted and plans approved in the period."""
    plans = SupportPlan.objects.filter(case__in=scoped_cases(scope))
    return [
        Figure(
            "casework.plans_made",
            _("支援プラン作成（版）"),
            plans.filter(period.filter(SupportPlan, "created_at")),
            "created_at",
            drill_field="case_id",
            note=_("期間内に作成されたプランの版の数（改定を含む）"),
        ),
        Figure(
            "casework.plans_approved",
            _("支援プラン承認"),
            plans.filter(period.filter(SupportPlan, "approved_on")),
            "approved_on",
            drill_field="case_id",
        ),
    ]


def closure_figures(period: Period, scope: Scope) -> list[Figure]:
    """Closures and suspensions in the period (from the case history), by deciding body."""
    moves = CaseTransition.objects.filter(case__in=scoped_cases(scope)).filter(period.filter(CaseTransition, "at"))
    figures = []
    for state, label in ((CaseState.CLOSED, _("終結")), (CaseState.SUSPENDED, _("中断"))):
        rows = moves.filter(to_state=state)
        figures.append(Figure(f"casework.{state}", label, rows, "at", drill_field="case_id"))
        figures.append(
            Figure(
                f"casework.{state}.by_meeting",
                _("%(s)s（会議の決定によるもの）") % {"s": label},
                rows.filter(decided_by_ref__startswith="meeting:"),
                "at",
                drill_field="case_id",
            )
        )
    return figures


def outreach_figures(period: Period, scope: Scope) -> list[Figure]:
    """Outreach contacts in the period, failed ones (不在・拒否) included and counted apart."""
    contacts = ContactRecord.objects.filter(case__in=scoped_cases(scope), is_outreach=True).filter(
        period.filter(ContactRecord, "occurred_at")
    )
    failed = contacts.filter(kind__in=[ContactRecord.Kind.ABSENT, ContactRecord.Kind.REFUSED])
    return [
        Figure("casework.outreach", _("アウトリーチ（延べ回数）"), contacts, "occurred_at", drill_field="case_id"),
        Figure(
            "casework.outreach_failed",
            _("うち不在・拒否"),
            failed,
            "occurred_at",
            drill_field="case_id",
        ),
        Figure(
            "casework.outreach_cases",
            _("アウトリーチ（実ケース数）"),
            contacts,
            "occurred_at",
            count="case_id",
            drill_field="case_id",
        ),
    ]


def _records_by_id(qs: QuerySet) -> QuerySet:
    """The same records taken by id: a semi-join cannot repeat a row, whatever joins the filters made."""
    return qs.model.objects.filter(pk__in=qs.order_by().values("pk"))


def grouped_counts(qs: QuerySet, group: str | None, date_field: str, count: str = "pk") -> dict:
    """Return {group value: Counts} for a queryset (group None: one entry under None) in one query.

    Records (延べ) dated by their own field are counted per month in one GROUP BY, with the year as the
    sum; COUNT(DISTINCT) per month column sorted 300,000 contact records thirteen times at city scale
    (BENCHMARKS.md). Persons (実人数) and dates on related rows need DISTINCT per column.
    """
    groups = [group] if group else []
    result: dict = {}
    if count == "pk" and "__" not in date_field:
        # ExtractMonth on a DateTimeField uses the site's time zone, like the __month lookup below.
        rows = (
            _records_by_id(qs)
            .order_by()
            .annotate(month_of_record=ExtractMonth(date_field))
            .values(*groups, "month_of_record")
            .annotate(n=Count("pk"))
        )
        for r in rows:
            counts = result.setdefault(r[group] if group else None, Counts(0, [0] * 12))
            counts.total += r["n"]
            if r["month_of_record"] is not None:  # an undated record counts in the year only, as before
                counts.months[FISCAL_MONTHS.index(r["month_of_record"])] += r["n"]
        return result
    aggregates = {"total": Count(count, distinct=True)}
    for month in FISCAL_MONTHS:
        aggregates[f"m{month}"] = Count(count, distinct=True, filter=Q(**{f"{date_field}__month": month}))
    if not group:
        row = qs.aggregate(**aggregates)
        return {None: Counts(row["total"], [row[f"m{m}"] for m in FISCAL_MONTHS])}
    rows = qs.order_by().values(group).annotate(**aggregates)
    return {r[group]: Counts(r["total"], [r[f"m{m}"] for m in FISCAL_MONTHS]) for r in rows}


def workload_organizations(scope: Scope) -> list[Organization]:
    """Return the organizations a workload table lists: every non-place organization, or the one in scope."""
    if scope.organization is not None:
        return [scope.organization]
    return list(Organization.objects.exclude(kind=Organization.Kind.PLACE_OPERATOR).order_by("kind", "name"))


def contact_workload(period: Period, scope: Scope) -> list[Figure]:
    """Contact records per organization that recorded them (the workload), 延べ."""
    contacts = ContactRecord.objects.filter(period.filter(ContactRecord, "occurred_at"))
    organizations = workload_organizations(scope)
    by_org = cache(
        lambda: grouped_counts(contacts.filter(organization__in=organizations), "organization_id", "occurred_at")
    )
    return [
        Figure(
            f"casework.contacts.org{org.pk}",
            str(org),
            contacts.filter(organization=org),
            "occurred_at",
            drill_field="case_id",
            precomputed=lambda pk=org.pk: by_org().get(pk, Counts(0, [0] * 12)),
        )
        for org in organizations
    ]


# ---------------------------------------------------------------------------
# The stored aggregates: every figure counted in one pass over each source table
# ---------------------------------------------------------------------------

# Tally keys: (年度, organization id or None for the municipality, figure key, month 1-12 or 0 for the 年度).
TallyKey = tuple[int, int | None, str, int]


class Tally:
    """Every figure's counts for every 年度 and scope, filled by one pass over each source table.

    Each app's `tally_*` function reads its tables once and calls `add` for each record with the scopes
    (None = the municipality, or organization ids) whose figures it belongs to. `indicators.aggregates`
    stores the result; `tests/indicators/test_aggregates.py` proves it equals the figures counted live.
    """

    def __init__(self, organization_ids: Iterable[int]):
        # Only organizations that have a dashboard scope (windows, coordinators, the municipal office).
        self.organization_ids = frozenset(organization_ids)
        self.counts: dict[TallyKey, int] = defaultdict(int)
        self.distinct: dict[TallyKey, set] = defaultdict(set)
        self.response_days: dict[tuple[int, int | None], list[float]] = defaultdict(list)

    def scopes(self, organization_ids: Iterable[int | None]) -> set[int | None]:
        """Return the municipality plus those of the organizations that have a scope."""
        return {None} | {pk for pk in organization_ids if pk in self.organization_ids}

    @property
    def every_scope(self) -> set[int | None]:
        return {None} | set(self.organization_ids)

    def add(self, when, scopes: Iterable[int | None], key: str, item=None) -> None:
        """Count a record dated `when` in its month and 年度; with `item`, count distinct items (実人数)."""
        if when is None:
            return
        day = timezone.localtime(when).date() if isinstance(when, datetime) else when
        fy, month = fiscal_year(day), day.month
        for scope in scopes:
            if item is None:
                self.counts[(fy, scope, key, month)] += 1
                self.counts[(fy, scope, key, 0)] += 1
            else:
                self.distinct[(fy, scope, key, month)].add(item)
                self.distinct[(fy, scope, key, 0)].add(item)

    def add_current(self, key: str, n: int) -> None:
        """Set a figure that has no 年度 (a count of now), stored under 年度 0 for the municipality."""
        self.counts[(0, None, key, 0)] = n

    def result(self) -> dict[TallyKey, int]:
        """Return every count above zero."""
        values = {k: n for k, n in self.counts.items() if n}
        values.update({k: len(items) for k, items in self.distinct.items() if items})
        return values


def tally_cases(tally: Tally) -> dict[int, set[int | None]]:
    """Count the case figures (one pass over cases, teams, domains, subjects, plans, moves and contacts).

    Return each case's scopes (the municipality, its lead and every organization ever on its team), which
    the upper apps' tallies do not need: they scope by their own organizations.
    """
    teams: dict[int, set[int]] = defaultdict(set)
    for case_id, org_id in CaseTeamMembership.objects.values_list("case_id", "organization_id").iterator(5000):
        teams[case_id].add(org_id)
    domains: dict[int, set[str]] = defaultdict(set)
    for case_id, domain in CaseDomain.objects.values_list("case_id", "domain").iterator(5000):
        domains[case_id].add(domain)
    subjects: dict[int, list[int]] = defaultdict(list)
    for case_id, person_id in CaseSubject.objects.values_list("case_id", "person_id").iterator(5000):
        subjects[case_id].append(person_id)
    case_scopes: dict[int, set[int | None]] = {}
    rows = Case.objects.values_list("pk", "opened_on", "lead_organization_id", "intake_route", "household__tags")
    for pk, opened_on, lead_id, route, tags in rows.iterator(5000):
        scopes = tally.scopes({lead_id} | teams.get(pk, set()))
        case_scopes[pk] = scopes
        tally.add(opened_on, scopes, "casework.new_cases")
        for person_id in subjects.get(pk, ()):
            tally.add(opened_on, scopes, "casework.new_persons", person_id)
        case_domains = domains.get(pk, set())
        for domain in case_domains:
            tally.add(opened_on, scopes, f"casework.domain.{domain}")
        if len(case_domains) >= 2:
            tally.add(opened_on, scopes, "casework.cross_domain")
        for tag in set(tags or ()):
            tally.add(opened_on, scopes, f"casework.tag.{tag}")
        tally.add(opened_on, scopes, f"casework.route.{route}")
    for case_id, created_at, approved_on in SupportPlan.objects.values_list(
        "case_id", "created_at", "approved_on"
    ).iterator(5000):
        tally.add(created_at, case_scopes[case_id], "casework.plans_made")
        tally.add(approved_on, case_scopes[case_id], "casework.plans_approved")
    moves = CaseTransition.objects.filter(to_state__in=[CaseState.CLOSED, CaseState.SUSPENDED])
    for case_id, state, at, decided_by in moves.values_list("case_id", "to_state", "at", "decided_by_ref").iterator(
        5000
    ):
        tally.add(at, case_scopes[case_id], f"casework.{state}")
        if decided_by.startswith("meeting:"):
            tally.add(at, case_scopes[case_id], f"casework.{state}.by_meeting")
    failed = {ContactRecord.Kind.ABSENT, ContactRecord.Kind.REFUSED}
    contacts = ContactRecord.objects.values_list("case_id", "organization_id", "occurred_at", "is_outreach", "kind")
    for case_id, org_id, occurred_at, outreach, kind in contacts.iterator(5000):
        if org_id in tally.organization_ids:
            # The workload row of the recording organization, in the municipality's table and its own.
            tally.add(occurred_at, (None, org_id), f"casework.contacts.org{org_id}")
        if outreach:
            scopes = case_scopes[case_id]
            tally.add(occurred_at, scopes, "casework.outreach")
            if kind in failed:
                tally.add(occurred_at, scopes, "casework.outreach_failed")
            tally.add(occurred_at, scopes, "casework.outreach_cases", case_id)
    return case_scopes


def scoped_organization_ids() -> list[int]:
    """Return the organizations a dashboard can be scoped to (every kind but place operators)."""
    return list(Organization.objects.exclude(kind=Organization.Kind.PLACE_OPERATOR).values_list("pk", flat=True))
