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
    if row.stream:
        # Rows of streams other than 0 carry their stream in the hash (stream 0 hashes as before streams).
        values["stream"] = row.stream
    return json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def row_hash(prev_hash: str, row: AccessLog) -> str:
    """Return SHA-256(prev_hash ‖ canonical row) as hex."""
    return hashlib.sha256((prev_hash + canonical_row(row)).encode()).hexdigest()


# Writers of one day spread over this many hash chains ("streams"), so no single lock serialises every
# page of the product (issue 20: one per-day lock capped the whole log near 250 rows/s). Each stream
# is its own chain from the genesis hash; verify walks every stream, the anchors keep every stream's head.
STREAMS = 8
# Advisory-lock key space 0x4A53 ("JS") keeps our locks apart from other advisory-lock users.
LOCK_CLASS = 0x4A53


def _stream_lock_key(day: date, stream: int) -> int:
    return day.toordinal() * 64 + stream


def _take_stream(day: date) -> int:
    """Lock a stream of the day's log for this transaction and return it: the first free one, else wait for 0.

    One statement tries the streams in order (pg_try_advisory_xact_lock stops at the first it gets);
    with all of them busy the writer queues on stream 0 as before streams existed.
    """
    if connection.vendor != "postgresql":
        return 0  # SQLite writes one transaction at a time; the unique constraint catches a race.
    base = _stream_lock_key(day, 0)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s FROM generate_series(0, %s) AS s WHERE pg_try_advisory_xact_lock(%s, %s + s) LIMIT 1",
            [STREAMS - 1, LOCK_CLASS, base],
        )
        row = cursor.fetchone()
        if row is not None:
            return row[0]
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_CLASS, base])
    return 0


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
    from casework.viewers import viewer_of  # viewers imports the audit context: no module-level cycle

    context = current_request_context()
    request = context.request if context else None
    if request is not None and getattr(request, "user", None) is not None and request.user.pk == user.pk:
        # The hat the user chose in the header: every row names the organization and role acted in.
        viewer = viewer_of(user)
        membership = viewer.memberships[0] if viewer.memberships else None
    else:
        membership = (
            Membership.objects.active().filter(user=user).order_by("id").only("organization_id", "role").first()
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
    """Chain and insert rows in one transaction: per day one stream lock, one head read, one INSERT."""
    for attempt in range(3):
        try:
            with transaction.atomic():
                by_day: dict[date, list[AccessLog]] = {}
                for row in rows:
                    by_day.setdefault(row.day, []).append(row)
                for day, day_rows in sorted(by_day.items()):
                    stream = _take_stream(day)
                    last = (
                        AccessLog.objects.filter(day=day, stream=stream).order_by("-seq").values("seq", "hash").first()
                    )
                    seq, prev = (last["seq"], last["hash"]) if last else (0, GENESIS)
                    for row in day_rows:
                        seq += 1
                        row.stream, row.seq, row.prev_hash = stream, seq, prev
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
    """The first row where a day's chain (one of its streams) does not verify."""

    day: date
    seq: int
    row_id: int | None
    message: str
    stream: int = 0


def _where(day: date, stream: int) -> str:
    """How a message names a place in the log: the day, and the stream when it is not the first."""
    return day.isoformat() if stream == 0 else f"{day.isoformat()} 系列{stream}"


def verify_day(day: date) -> tuple[int, ChainProblem | None]:
    """Walk every stream of one day; return the rows checked and the first problem, if any."""
    checked = 0
    stream, prev, expected_seq = None, GENESIS, 1
    rows = AccessLog.objects.filter(day=day).order_by("stream", "seq").iterator(chunk_size=5000)
    for row in rows:
        if row.stream != stream:
            stream, prev, expected_seq = row.stream, GENESIS, 1
        if row.seq != expected_seq:
            return checked, ChainProblem(
                day,
                expected_seq,
                row.id,
                f"{_where(day, stream)} の{_seq_range(expected_seq, row.seq - 1)} がありません（削除の疑い）",
                stream,
            )
        if row.prev_hash != prev:
            return checked, ChainProblem(day, row.seq, row.id, "直前のハッシュが一致しません", stream)
        if row_hash(prev, row) != row.hash:
            return checked, ChainProblem(
                day, row.seq, row.id, "行の内容がハッシュと一致しません（改ざんの疑い）", stream
            )
        prev = row.hash
        expected_seq += 1
        checked += 1
    return checked, None


def stream_heads(day: date) -> dict[int, tuple[int, str]]:
    """Return {stream: (last seq, its hash)} for the day's streams that have rows."""
    heads: dict[int, tuple[int, str]] = {}
    rows = (
        AccessLog.objects.filter(day=day)
        .order_by("stream", "-seq")
        .distinct("stream")
        .values_list("stream", "seq", "hash")
        if connection.vendor == "postgresql"
        else AccessLog.objects.filter(day=day).order_by("stream", "seq").values_list("stream", "seq", "hash")
    )
    for stream, seq, hash_ in rows:
        heads[stream] = (seq, hash_)
    return heads


def day_head(day: date) -> AccessLog | None:
    """Return the last row of the day's first stream (the whole chain before streams existed)."""
    return AccessLog.objects.filter(day=day, stream=0).order_by("-seq").first()


def chain_days(*, start: date | None = None, end: date | None = None) -> list[date]:
    """Return the days that have rows, oldest first, optionally within [start, end]."""
    rows = AccessLog.objects.all()
    if start is not None:
        rows = rows.filter(day__gte=start)
    if end is not None:
        rows = rows.filter(day__lte=end)
    return list(rows.order_by("day").values_list("day", flat=True).distinct())


def anchor_record(day: date) -> dict:
    """Return the day's stream heads as a JSON-ready dict (seq 0 and the genesis hash when empty).

    "seq"/"hash" are stream 0's head (the whole day before streams); "streams" has every stream's head.
    """
    heads = stream_heads(day)
    seq, hash_ = heads.get(0, (0, GENESIS))
    return {
        "day": day.isoformat(),
        "seq": seq,
        "hash": hash_,
        "streams": {str(stream): {"seq": s, "hash": h} for stream, (s, h) in sorted(heads.items())},
        "rows": AccessLog.objects.filter(day=day).count(),
        "anchored_at": timezone.now().astimezone(UTC).isoformat(timespec="seconds"),
    }


def _seq_range(first: int, last: int) -> str:
    return f"連番 {first}" if first == last else f"連番 {first}..{last}"


def parse_anchor(anchor: dict) -> tuple[date, int, str]:
    """Return (day, seq, hash) of a kept anchor (stream 0's head); raise ValueError when it is malformed."""
    try:
        day = date.fromisoformat(str(anchor["day"]))
        seq = int(anchor["seq"])
        expected = str(anchor["hash"])
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"アンカーの形式が正しくありません: {anchor!r}") from None
    if seq < 0:
        raise ValueError(f"アンカーの形式が正しくありません: {anchor!r}")
    anchor_streams(anchor)
    return day, seq, expected


def anchor_streams(anchor: dict) -> dict[int, tuple[int, str]]:
    """Return {stream: (seq, hash)} of a kept anchor (an anchor from before streams: stream 0 only)."""
    try:
        streams = {0: (int(anchor["seq"]), str(anchor["hash"]))}
        for key, head in (anchor.get("streams") or {}).items():
            streams[int(key)] = (int(head["seq"]), str(head["hash"]))
    except (KeyError, TypeError, ValueError, AttributeError):
        raise ValueError(f"アンカーの形式が正しくありません: {anchor!r}") from None
    if any(seq < 0 or not 0 <= stream < 64 for stream, (seq, _h) in streams.items()):
        raise ValueError(f"アンカーの形式が正しくありません: {anchor!r}")
    return streams


def anchor_size(anchor: dict) -> int:
    """The number of chained rows an anchor vouches for (the later of two anchors of a day covers more)."""
    return sum(seq for seq, _hash in anchor_streams(anchor).values())


def check_anchor(anchor: dict) -> ChainProblem | None:
    """Compare a kept anchor with the database: every anchored stream head must still carry its hash.

    A chain only detects a removed row if a later row remains; the anchor also catches rows
    removed from the end of a stream (naming the missing seq range), a stream or a day emptied
    altogether, or a stream rewritten from its first row onwards.
    """
    day, _seq, _hash = parse_anchor(anchor)
    for stream, (seq, expected) in sorted(anchor_streams(anchor).items()):
        problem = _check_stream_head(day, stream, seq, expected)
        if problem:
            return problem
    return None


def _check_stream_head(day: date, stream: int, seq: int, expected: str) -> ChainProblem | None:
    if seq == 0:
        return None
    where = _where(day, stream)
    row = AccessLog.objects.filter(day=day, stream=stream, seq=seq).only("id", "hash").first()
    if row is None:
        last = AccessLog.objects.filter(day=day, stream=stream).order_by("-seq").values_list("seq", flat=True).first()
        if last is None:
            if stream and AccessLog.objects.filter(day=day).exists():
                return ChainProblem(
                    day,
                    1,
                    None,
                    f"{where} はアンカーでは {seq} 行ありましたが、系列ごとありません（{_seq_range(1, seq)} の削除の疑い）",
                    stream,
                )
            return ChainProblem(
                day,
                1,
                None,
                f"{day.isoformat()} はアンカーでは {seq} 行ありましたが、1行もありません"
                f"（{_seq_range(1, seq)} の削除の疑い）",
                stream,
            )
        if last < seq:
            return ChainProblem(
                day, last + 1, None, f"{where} の{_seq_range(last + 1, seq)} がありません（末尾の削除の疑い）", stream
            )
        return ChainProblem(day, seq, None, f"{where} のアンカーされた連番 {seq} がありません（削除の疑い）", stream)
    if row.hash != expected:
        return ChainProblem(day, seq, row.id, "アンカーのハッシュと一致しません（改ざんの疑い）", stream)
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
