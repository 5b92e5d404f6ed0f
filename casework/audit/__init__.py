"""Writing and verifying the hash-chained access log."""

import hashlib
import json
from collections.abc import Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from casework.audit.context import current_request_context
from casework.models import AccessLog, Membership
from core.guards import FailClosed

GENESIS = "0" * 64

# The fields a row's hash covers, in order; changing this list breaks every existing chain.
HASHED_FIELDS = (
    "day",
    "seq",
    "at",
    "request_id",
    "actor_id",
    "actor_username",
    "organization_id",
    "role",
    "auth_strength",
    "ip",
    "action",
    "object_type",
    "object_id",
    "person_ids",
    "basis",
    "basis_ref",
    "reason",
    "outcome",
    "path",
)


class AccessLogUnavailable(FailClosed):
    """The access log could not be written, so the access it records must not happen."""


def canonical_row(row: AccessLog) -> str:
    """Return the row's hashed fields as canonical JSON."""
    values = {}
    for name in HASHED_FIELDS:
        value = getattr(row, name)
        if isinstance(value, datetime):
            value = value.astimezone(UTC).isoformat(timespec="microseconds")
        elif isinstance(value, date):
            value = value.isoformat()
        elif name == "person_ids":
            value = sorted({int(pid) for pid in value or []})
        values[name] = value
    return json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def row_hash(prev_hash: str, row: AccessLog) -> str:
    """Return SHA-256(prev_hash ‖ canonical row) as hex."""
    return hashlib.sha256((prev_hash + canonical_row(row)).encode()).hexdigest()


def _lock_day(day: date) -> None:
    """Serialise writers of one day's chain (PostgreSQL advisory lock for this transaction)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Key space 0x4A53 ("JS") keeps our locks apart from other advisory-lock users.
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [0x4A53, day.toordinal()])


@dataclass
class Actor:
    """Who acts, as the log records it."""

    user: object | None
    organization_id: int | None
    role: str
    auth_strength: str


def describe_actor(user, *, auth_strength: str | None = None) -> Actor:
    """Return the acting user with their primary active membership and authentication strength."""
    if user is None or not getattr(user, "is_authenticated", False):
        # No account: an API token (its organization passed by the caller) or nobody.
        return Actor(None, None, "", auth_strength or AccessLog.AuthStrength.NONE)
    context = current_request_context()
    viewer = getattr(context.request, "_viewer", None) if context else None
    if viewer is not None and viewer.user.pk == user.pk:
        membership = viewer.memberships[0] if viewer.memberships else None
    else:
        membership = (
            Membership.objects.filter(user=user, is_active=True, organization__is_active=True)
            .order_by("id")
            .only("organization_id", "role")
            .first()
        )
    strength = auth_strength
    if strength is None:
        verified = getattr(user, "is_verified", None)
        strength = (
            AccessLog.AuthStrength.SECOND_FACTOR
            if callable(verified) and verified()
            else AccessLog.AuthStrength.PASSWORD
        )
    return Actor(
        user,
        membership.organization_id if membership else None,
        membership.role if membership else "",
        strength,
    )


def log_access(
    *,
    actor,
    action: str,
    object_type: str = "",
    object_id: object = "",
    person_ids: Iterable[int] = (),
    basis: str = AccessLog.Basis.NONE,
    basis_ref: object = "",
    reason: str = "",
    outcome: str = AccessLog.Outcome.ALLOWED,
    organization_id: int | None = None,
    role: str | None = None,
    auth_strength: str | None = None,
) -> AccessLog:
    """Append one row to today's chain, in the caller's transaction; raise AccessLogUnavailable on failure."""
    who = describe_actor(actor, auth_strength=auth_strength)
    context = current_request_context()
    now = timezone.now()
    row = AccessLog(
        at=now,
        day=timezone.localdate(now),
        request_id=context.request_id if context else "",
        actor=who.user,
        actor_username=getattr(who.user, "username", "") or "",
        organization_id=organization_id if organization_id is not None else who.organization_id,
        role=role if role is not None else who.role,
        auth_strength=who.auth_strength,
        ip=context.ip if context else None,
        action=action,
        object_type=object_type,
        # An id typed into a URL can be any length; the column holds 40 characters.
        object_id=str(object_id)[:40],
        person_ids=sorted({int(pid) for pid in person_ids if pid is not None}),
        basis=basis,
        basis_ref=str(basis_ref),
        reason=reason[:500],
        outcome=outcome,
        path=context.path if context else "",
    )
    batch = _BATCH.get()
    if batch is not None:
        # Inside log_batch(): the row is written with the page's other rows when the batch closes.
        batch.append(row)
        return row
    _append([row])
    return row


def _append(rows: list[AccessLog]) -> None:
    """Chain and insert rows of one day in one transaction: one lock, one head read, one INSERT."""
    for attempt in range(3):
        try:
            with transaction.atomic():
                by_day: dict[date, list[AccessLog]] = {}
                for row in rows:
                    by_day.setdefault(row.day, []).append(row)
                for day, day_rows in sorted(by_day.items()):
                    _lock_day(day)
                    last = AccessLog.objects.filter(day=day).order_by("-seq").values("seq", "hash").first()
                    seq, prev = (last["seq"], last["hash"]) if last else (0, GENESIS)
                    for row in day_rows:
                        seq += 1
                        row.seq, row.prev_hash = seq, prev
                        row.hash = prev = row_hash(prev, row)
                    if len(day_rows) == 1:
                        day_rows[0].save(force_insert=True)
                    else:
                        AccessLog.objects.bulk_create(day_rows)
            return
        except IntegrityError:
            # Only SQLite lacks the advisory lock; a racing writer took our seq, so try again.
            for row in rows:
                row.pk = None
            if attempt == 2:
                raise AccessLogUnavailable("access log chain is contended") from None
        except Exception as exc:
            raise AccessLogUnavailable(str(exc)) from exc


_BATCH: ContextVar[list[AccessLog] | None] = ContextVar("access_log_batch", default=None)


@contextmanager
def log_batch():
    """Collect the log rows of one page and write them together when the block ends (one transaction).

    For a page composed of panels that each log what they show (the home page): the rows keep their
    own basis each, and cost one lock, one chain-head read and one INSERT instead of one of each per
    row. Nothing of the page may be sent before the block ends; if the write fails the block raises
    AccessLogUnavailable (the page answers the fail-closed 503). Nested blocks join the outer one.
    """
    if _BATCH.get() is not None:
        yield
        return
    rows: list[AccessLog] = []
    token = _BATCH.set(rows)
    try:
        yield
    finally:
        _BATCH.reset(token)
    if rows:
        _append(rows)


@dataclass
class ChainProblem:
    """The first row where a day's chain does not verify."""

    day: date
    seq: int
    row_id: int | None
    message: str


def verify_day(day: date) -> tuple[int, ChainProblem | None]:
    """Walk one day's chain; return the number of rows checked and the first problem, if any."""
    prev = GENESIS
    expected_seq = 1
    checked = 0
    for row in AccessLog.objects.filter(day=day).order_by("seq").iterator(chunk_size=5000):
        if row.seq != expected_seq:
            return checked, ChainProblem(
                day,
                expected_seq,
                row.id,
                f"{day.isoformat()} の{_seq_range(expected_seq, row.seq - 1)} がありません（削除の疑い）",
            )
        if row.prev_hash != prev:
            return checked, ChainProblem(day, row.seq, row.id, "直前のハッシュが一致しません")
        if row_hash(prev, row) != row.hash:
            return checked, ChainProblem(day, row.seq, row.id, "行の内容がハッシュと一致しません（改ざんの疑い）")
        prev = row.hash
        expected_seq += 1
        checked += 1
    return checked, None


def day_head(day: date) -> AccessLog | None:
    """Return the last row of a day's chain."""
    return AccessLog.objects.filter(day=day).order_by("-seq").first()


def chain_days(*, start: date | None = None, end: date | None = None) -> list[date]:
    """Return the days that have rows, oldest first, optionally within [start, end]."""
    rows = AccessLog.objects.all()
    if start is not None:
        rows = rows.filter(day__gte=start)
    if end is not None:
        rows = rows.filter(day__lte=end)
    return list(rows.order_by("day").values_list("day", flat=True).distinct())


def anchor_record(day: date) -> dict:
    """Return the day's chain head as a JSON-ready dict (seq 0 and the genesis hash when empty)."""
    head = day_head(day)
    return {
        "day": day.isoformat(),
        "seq": head.seq if head else 0,
        "hash": head.hash if head else GENESIS,
        "rows": AccessLog.objects.filter(day=day).count(),
        "anchored_at": timezone.now().astimezone(UTC).isoformat(timespec="seconds"),
    }


def _seq_range(first: int, last: int) -> str:
    return f"連番 {first}" if first == last else f"連番 {first}..{last}"


def parse_anchor(anchor: dict) -> tuple[date, int, str]:
    """Return (day, seq, hash) of a kept anchor; raise ValueError when it is malformed."""
    try:
        day = date.fromisoformat(str(anchor["day"]))
        seq = int(anchor["seq"])
        expected = str(anchor["hash"])
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"アンカーの形式が正しくありません: {anchor!r}") from None
    if seq < 0:
        raise ValueError(f"アンカーの形式が正しくありません: {anchor!r}")
    return day, seq, expected


def check_anchor(anchor: dict) -> ChainProblem | None:
    """Compare a kept anchor with the database: the anchored row must still carry the anchored hash.

    A chain only detects a removed row if a later row remains; the anchor also catches rows
    removed from the end of a day (naming the missing seq range), a day emptied altogether, or a
    day rewritten from its first row onwards.
    """
    day, seq, expected = parse_anchor(anchor)
    if seq == 0:
        return None
    row = AccessLog.objects.filter(day=day, seq=seq).only("id", "hash").first()
    if row is None:
        last = AccessLog.objects.filter(day=day).order_by("-seq").values_list("seq", flat=True).first()
        if last is None:
            return ChainProblem(
                day,
                1,
                None,
                f"{day.isoformat()} はアンカーでは {seq} 行ありましたが、1行もありません"
                f"（{_seq_range(1, seq)} の削除の疑い）",
            )
        if last < seq:
            return ChainProblem(
                day, last + 1, None, f"{day.isoformat()} の{_seq_range(last + 1, seq)} がありません（末尾の削除の疑い）"
            )
        return ChainProblem(day, seq, None, f"{day.isoformat()} のアンカーされた連番 {seq} がありません（削除の疑い）")
    if row.hash != expected:
        return ChainProblem(day, seq, row.id, "アンカーのハッシュと一致しません（改ざんの疑い）")
    return None


def rows_past_retention(retention_days: int, *, today: date | None = None) -> tuple[date, list[tuple[date, int]]]:
    """Return the cutoff day and the row count of each day older than the retention period."""
    today = today or timezone.localdate()
    cutoff = date.fromordinal(today.toordinal() - retention_days)
    counts = (
        AccessLog.objects.filter(day__lt=cutoff)
        .values("day")
        .annotate(rows=models.Count("id"))
        .order_by("day")
        .values_list("day", "rows")
    )
    return cutoff, list(counts)
