"""Reads for the auditor's screens: the filtered log, a person's history, review reports, chain status.

Auditors see who accessed what (ids, actors, organizations, person ids), never case content.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import connection, models
from django.db.models import Count, Max, Min, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay, TruncHour
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from casework.access import person_ids_for_case
from casework.audit import verify_day
from casework.audit.labels import CASE_OBJECT_TYPES, object_type_label
from casework.choices import Role
from casework.models import AccessLog, Case
from core.panels import Panel

TOKYO = ZoneInfo("Asia/Tokyo")
PAGE_SIZE = 100
# Reports show this many rows at most; the log search (with CSV) holds the rest.
REPORT_LIMIT = 500
# One export may hold this many rows; beyond it the auditor narrows the filters.
EXPORT_LIMIT = 50_000
# A list, search or export showing at least this many persons is a "bulk" view.
BULK_PERSONS = 50
# Office hours in Asia/Tokyo, weekdays: 07:00 until 20:00.
OFFICE_OPENS_HOUR = 7
OFFICE_CLOSES_HOUR = 20
# Denied requests by one account within one hour that count as a spike.
DENIED_SPIKE = 5
# An active account without a sign-in for this many days is reported as unused.
UNUSED_ACCOUNT_DAYS = 90
CHAIN_STATUS_DAYS = 7

# Bases outside the actor's own organization or case team: what the "outside the caseload" report lists.
OUTSIDE_CASELOAD = (AccessLog.Basis.CONSENT, AccessLog.Basis.SUPPORT_MEETING, AccessLog.Basis.BREAK_GLASS)


class PersonCount(models.Func):
    """The number of ids in AccessLog.person_ids (a JSON array)."""

    function = "jsonb_array_length"
    output_field = models.IntegerField()

    def as_sqlite(self, compiler, conn, **extra):
        return self.as_sql(compiler, conn, function="json_array_length", **extra)


def with_person(rows: QuerySet, person_id: int) -> QuerySet:
    """Keep the rows whose person_ids contain the id (GIN index on PostgreSQL, json_each on SQLite)."""
    if connection.vendor == "postgresql":
        return rows.filter(person_ids__contains=[person_id])
    # SQLite has no JSON containment lookup; the demo's table is small enough to scan.
    return rows.filter(
        RawSQL(
            "EXISTS (SELECT 1 FROM json_each(casework_accesslog.person_ids) WHERE json_each.value = %s)",
            [person_id],
            output_field=models.BooleanField(),
        )
    )


def in_period(rows: QuerySet, start: date | None, end: date | None) -> QuerySet:
    """Keep rows whose chain day (Asia/Tokyo) lies within [start, end]."""
    if start:
        rows = rows.filter(day__gte=start)
    if end:
        rows = rows.filter(day__lte=end)
    return rows


def log_rows() -> QuerySet:
    """Return every log row with what the screens show next to it, newest first."""
    return AccessLog.objects.select_related("organization").order_by("-at", "-id")


def filter_log(cleaned: dict, *, viewer_user=None) -> QuerySet:
    """Apply the search form's cleaned filters (hide_own leaves out the searching auditor's own rows)."""
    rows = in_period(log_rows(), cleaned.get("date_from"), cleaned.get("date_to"))
    if cleaned.get("hide_own") and viewer_user is not None:
        rows = rows.exclude(actor=viewer_user)
    if cleaned.get("case_number"):
        case = Case.objects.filter(number=cleaned["case_number"]).only("pk").first()
        # An unknown number finds nothing (rather than every row).
        rows = rows.filter(object_type__in=CASE_OBJECT_TYPES, object_id=str(case.pk) if case else "-")
    if cleaned.get("actor"):
        rows = rows.filter(actor_username=cleaned["actor"].strip())
    if cleaned.get("organization"):
        rows = rows.filter(organization=cleaned["organization"])
    if cleaned.get("person"):
        rows = with_person(rows, cleaned["person"])
    if cleaned.get("object_type"):
        rows = rows.filter(object_type=cleaned["object_type"].strip())
    if cleaned.get("object_id"):
        rows = rows.filter(object_id=cleaned["object_id"])
    for name in ("action", "outcome", "basis"):
        if cleaned.get(name):
            rows = rows.filter(**{name: cleaned[name]})
    return rows


@dataclass
class LogPage:
    """One page of rows in (at, id) descending order, and the cursor of the next page if any."""

    rows: list[AccessLog]
    next_cursor: str | None
    person_ids: list[int] = field(default_factory=list)


def person_ids_of(rows: Iterable[AccessLog]) -> list[int]:
    """Return every person id that appears in the rows, sorted."""
    return sorted({pid for row in rows for pid in row.person_ids or []})


# A list row may name over a thousand persons; the screen links this many and counts the rest (CSV has all).
PERSONS_SHOWN_PER_ROW = 20


def case_for_number(number: str):
    """Return (case, the person ids its page shows) for a case-number search, or (None, [])."""
    case = Case.objects.filter(number=number).first() if number else None
    if case is None:
        return None, []
    return case, person_ids_for_case(case)


def with_labels(rows: list[AccessLog]) -> list[AccessLog]:
    """Give each row its role's and object's Japanese labels and the person ids the screen links."""
    for row in rows:
        row.role_label = role_label(row.role)
        row.object_label = object_type_label(row.object_type)
        ids = row.person_ids or []
        row.persons_shown = ids[:PERSONS_SHOWN_PER_ROW]
        row.persons_more = max(0, len(ids) - PERSONS_SHOWN_PER_ROW)
    return rows


def log_page(rows: QuerySet, after: tuple[datetime, int] | None, size: int = PAGE_SIZE) -> LogPage:
    """Return the page after the cursor by keyset on (at, id): no COUNT(*) over millions of rows."""
    if after:
        at, row_id = after
        rows = rows.filter(Q(at__lt=at) | Q(at=at, id__lt=row_id))
    fetched = with_labels(list(rows[: size + 1]))
    page, more = fetched[:size], len(fetched) > size
    cursor = f"{page[-1].at.isoformat()}~{page[-1].id}" if more else None
    return LogPage(page, cursor, person_ids_of(page))


def export_rows(rows: QuerySet) -> list[AccessLog]:
    """Return up to EXPORT_LIMIT + 1 rows (one more than allowed shows the export is too large)."""
    return list(rows[: EXPORT_LIMIT + 1])


EXPORT_HEADER = [
    "ID",
    "チェーン日付",
    "連番",
    "日時（日本時間）",
    "リクエストID",
    "操作者",
    "所属機関ID",
    "所属機関",
    "役割",
    "認証強度",
    "IPアドレス",
    "操作",
    "対象種別",
    "対象ID",
    "対象者ID",
    "根拠",
    "根拠の参照",
    "理由",
    "結果",
    "URL",
    "ハッシュ",
]


def role_label(code: str) -> str:
    return str(Role(code).label) if code in Role.values else code


def export_record(row: AccessLog) -> list:
    """Return one row's export cells; times are Asia/Tokyo without zone (Excel has none)."""
    return [
        row.id,
        row.day,
        row.seq,
        timezone.localtime(row.at, TOKYO).replace(tzinfo=None),
        row.request_id,
        row.actor_username,
        row.organization_id,
        str(row.organization) if row.organization else "",
        role_label(row.role),
        row.get_auth_strength_display(),
        row.ip or "",
        row.get_action_display(),
        object_type_label(row.object_type),
        row.object_id,
        " ".join(str(pid) for pid in row.person_ids or []),
        row.get_basis_display(),
        row.basis_ref,
        row.reason,
        row.get_outcome_display(),
        row.path,
        row.hash,
    ]


@dataclass
class ActorAccess:
    """One actor's accesses to one person."""

    actor_username: str
    organization: str
    count: int
    first_at: datetime
    last_at: datetime
    denied: int


def person_history(person_id: int, start: date | None = None, end: date | None = None) -> list[ActorAccess]:
    """Return who looked at this person: per actor and organization, counts and first/last access."""
    rows = in_period(with_person(AccessLog.objects.all(), person_id), start, end)
    grouped = (
        rows.values("actor_username", "organization__name", "organization__short_name")
        .annotate(
            count=Count("id"),
            first_at=Min("at"),
            last_at=Max("at"),
            denied=Count("id", filter=Q(outcome=AccessLog.Outcome.DENIED)),
        )
        .order_by("-last_at")
    )
    return [
        ActorAccess(
            g["actor_username"],
            g["organization__short_name"] or g["organization__name"] or "",
            g["count"],
            g["first_at"],
            g["last_at"],
            g["denied"],
        )
        for g in grouped
    ]


def person_rows(person_id: int, start: date | None = None, end: date | None = None) -> QuerySet:
    """Return the log rows touching this person, newest first."""
    return in_period(with_person(log_rows(), person_id), start, end)


# --- Review reports -----------------------------------------------------------------------


def break_glass_uses(start: date, end: date) -> QuerySet:
    """Rows recorded under break-glass (emergency access) in the period."""
    rows = in_period(log_rows(), start, end)
    return rows.filter(Q(basis=AccessLog.Basis.BREAK_GLASS) | Q(auth_strength=AccessLog.AuthStrength.BREAK_GLASS))


def outside_caseload(start: date, end: date) -> QuerySet:
    """Rows outside the actor's caseload: denied, or allowed on a basis other than own organization/case team."""
    rows = in_period(log_rows(), start, end).annotate(persons=PersonCount("person_ids"))
    return rows.filter(
        Q(outcome=AccessLog.Outcome.DENIED)
        | Q(action=AccessLog.Action.DENIED)
        | Q(basis__in=OUTSIDE_CASELOAD)
        # A row naming persons without any basis is unexplained access: report it too.
        | Q(basis=AccessLog.Basis.NONE, persons__gt=0)
    )


# Who was given or lost a role, and who asked and approved: the two-person grant's trail.
ROLE_CHANGE_ACTIONS = [
    AccessLog.Action.GRANT_REQUEST,
    AccessLog.Action.GRANT_APPROVE,
    AccessLog.Action.GRANT_REJECT,
    AccessLog.Action.MEMBERSHIP_GRANT,
    AccessLog.Action.MEMBERSHIP_END,
    AccessLog.Action.ACCOUNT_DEACTIVATE,
]


def role_changes(start: date, end: date) -> QuerySet:
    """Rows of role grants (requested, approved, refused, rejected), membership ends and deactivations."""
    return in_period(log_rows(), start, end).filter(action__in=ROLE_CHANGE_ACTIONS)


def off_hours_bulk(start: date, end: date) -> QuerySet:
    """Exports, and list/search rows naming BULK_PERSONS or more persons, outside office hours (Asia/Tokyo)."""
    rows = in_period(log_rows(), start, end).annotate(
        persons=PersonCount("person_ids"),
        local_hour=ExtractHour("at", tzinfo=TOKYO),
        local_weekday=ExtractIsoWeekDay("at", tzinfo=TOKYO),
    )
    bulk = Q(action=AccessLog.Action.EXPORT) | Q(
        action__in=[AccessLog.Action.LIST, AccessLog.Action.SEARCH, AccessLog.Action.PRINT],
        persons__gte=BULK_PERSONS,
    )
    off_hours = Q(local_hour__gte=OFFICE_CLOSES_HOUR) | Q(local_hour__lt=OFFICE_OPENS_HOUR) | Q(local_weekday__gte=6)
    return rows.filter(bulk, off_hours)


@dataclass
class DeniedSpike:
    """One account's denied requests within one hour."""

    actor_username: str
    organization: str
    hour: datetime
    count: int


def denied_spikes(start: date, end: date) -> list[DeniedSpike]:
    """Return hours in which one account had DENIED_SPIKE or more denied requests, newest first."""
    rows = in_period(AccessLog.objects.all(), start, end).filter(
        Q(outcome=AccessLog.Outcome.DENIED) | Q(action=AccessLog.Action.DENIED)
    )
    grouped = (
        rows.annotate(hour=TruncHour("at", tzinfo=TOKYO))
        .values("actor_username", "organization__name", "organization__short_name", "hour")
        .annotate(count=Count("id"))
        .filter(count__gte=DENIED_SPIKE)
        .order_by("-hour", "actor_username")
    )
    return [
        DeniedSpike(
            g["actor_username"],
            g["organization__short_name"] or g["organization__name"] or "",
            g["hour"],
            g["count"],
        )
        for g in grouped[:REPORT_LIMIT]
    ]


def unused_accounts(now: datetime | None = None) -> QuerySet:
    """Active accounts that have not signed in for UNUSED_ACCOUNT_DAYS days, or never."""
    cutoff = (now or timezone.now()) - timedelta(days=UNUSED_ACCOUNT_DAYS)
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(last_login__isnull=True) | Q(last_login__lt=cutoff))
        .prefetch_related("memberships__organization")
        .order_by("last_login", "username")
    )


@dataclass
class Report:
    """A review report's slug, title and what it reports."""

    slug: str
    title: str
    description: str


def reports() -> list[Report]:
    """Return the review reports in the order of the tabs."""
    return [
        Report(
            "break-glass",
            _("緊急アクセスの利用"),
            _("根拠が「緊急アクセス」の記録（または緊急アクセスで認証した記録）です。理由が妥当か確認してください。"),
        ),
        Report(
            "outside-caseload",
            _("担当外へのアクセス"),
            _(
                "「担当外」とは、根拠が自機関・ケースチーム（所属機関の管理を含む）ではないアクセスです: "
                "本人同意・支援会議・緊急アクセスを根拠とするもの、根拠なしで対象者を含むもの、"
                "そして拒否されたすべての要求です。監査画面自体の記録は含みません。"
            ),
        ),
        Report(
            "off-hours",
            _("時間外の大量閲覧・出力"),
            _(
                "平日%(opens)d時前・%(closes)d時以降（日本時間）と土日の、すべての出力と、"
                "対象者%(bulk)d人以上の一覧・検索・印刷です（祝日は含みません）。"
            )
            % {"opens": OFFICE_OPENS_HOUR, "closes": OFFICE_CLOSES_HOUR, "bulk": BULK_PERSONS},
        ),
        Report(
            "role-changes",
            _("権限の付与と終了"),
            _(
                "役割の付与の申請・承認（拒否された承認を含む）・却下、所属の開始と終了、アカウントの無効化です。"
                "承認者が申請者と別の管理者であることを確認してください。"
            ),
        ),
        Report(
            "denied-spikes",
            _("拒否の急増"),
            _("1つのアカウントで1時間（日本時間）に%(n)d件以上拒否された時間帯です。") % {"n": DENIED_SPIKE},
        ),
        Report(
            "unused-accounts",
            _("未使用アカウント"),
            _("有効なアカウントのうち、%(days)d日以上ログインしていない、または一度もログインしていないものです。")
            % {"days": UNUSED_ACCOUNT_DAYS},
        ),
    ]


# --- Chain status -------------------------------------------------------------------------


@dataclass
class DayStatus:
    """One day's chain: how many rows verified and the first problem, if any."""

    day: date
    checked: int
    problem: object | None


def chain_status(today: date | None = None, days: int = CHAIN_STATUS_DAYS) -> list[DayStatus]:
    """Verify the chains of the last few days (today first)."""
    today = today or timezone.localdate()
    statuses = []
    for offset in range(days):
        day = today - timedelta(days=offset)
        checked, problem = verify_day(day)
        statuses.append(DayStatus(day, checked, problem))
    return statuses


# --- Home panel ----------------------------------------------------------------------------


def audit_home_panels(request, viewer) -> list:
    """Return the auditor's home panel: links to the screens and this week's figures to review."""

    if not viewer.is_auditor:
        return []
    today = timezone.localdate()
    week = in_period(AccessLog.objects.all(), today - timedelta(days=6), today)
    figures = week.aggregate(
        today=Count("id", filter=Q(day=today)),
        break_glass=Count("id", filter=Q(basis=AccessLog.Basis.BREAK_GLASS)),
        denied=Count("id", filter=Q(outcome=AccessLog.Outcome.DENIED) | Q(action=AccessLog.Action.DENIED)),
        exports=Count("id", filter=Q(action=AccessLog.Action.EXPORT)),
    )
    context = {
        "figures": figures,
        "links": [
            (_("アクセス記録の検索"), reverse("audit:log")),
            (_("対象者ごとの閲覧履歴"), reverse("audit:person_history")),
            *[(report.title, reverse("audit:report", args=[report.slug])) for report in reports()],
            (_("改ざん検証"), reverse("audit:chain")),
        ],
    }
    return [Panel(_("アクセス記録の監査"), "casework/audit/panel.html", context, order=20)]
