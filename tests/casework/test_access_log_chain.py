"""The access log's hash chain: linear under concurrency, append-only, tamper-evident."""

import threading

import psycopg
import pytest
from django.db import connection, connections, transaction
from django.db.utils import ProgrammingError

from casework.audit import GENESIS, log_access, verify_day
from casework.models import AccessLog


@pytest.mark.django_db
def test_rows_chain_from_the_genesis_hash(personas):
    first = log_access(actor=personas.caseworker_a, action=AccessLog.Action.VIEW, object_type="test", object_id=1)
    second = log_access(actor=personas.caseworker_a, action=AccessLog.Action.VIEW, object_type="test", object_id=2)
    assert first.prev_hash == GENESIS and second.prev_hash == first.hash
    assert (first.seq, second.seq) == (1, 2)
    assert first.organization_id == personas.window_a.id and first.role == "caseworker"
    assert verify_day(first.day) == (2, None)


@pytest.mark.django_db
def test_update_and_delete_through_the_application_are_refused(personas):
    row = log_access(actor=personas.caseworker_a, action=AccessLog.Action.VIEW)
    with pytest.raises(ProgrammingError, match="Cannot"), transaction.atomic():
        AccessLog.objects.filter(pk=row.pk).update(reason="changed")
    with pytest.raises(ProgrammingError, match="Cannot"), transaction.atomic():
        AccessLog.objects.filter(pk=row.pk).delete()


@pytest.mark.django_db(transaction=True)
def test_truncate_is_refused_on_a_fresh_connection(personas):
    log_access(actor=personas.caseworker_a, action=AccessLog.Action.VIEW)
    settings = connection.settings_dict
    with psycopg.connect(
        dbname=settings["NAME"], user=settings["USER"], host=settings["HOST"], port=settings["PORT"] or 5432
    ) as raw:
        with pytest.raises(psycopg.errors.RaiseException, match="Cannot truncate"):
            raw.execute("TRUNCATE casework_accesslog CASCADE")
    assert AccessLog.objects.count() == 1


@pytest.mark.django_db
def test_a_row_edited_with_triggers_disabled_is_found(personas):
    rows = [log_access(actor=personas.caseworker_a, action=AccessLog.Action.VIEW, object_id=i) for i in range(3)]
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # flush pending FK checks before ALTER
        cursor.execute("ALTER TABLE casework_accesslog DISABLE TRIGGER USER")
        cursor.execute("UPDATE casework_accesslog SET person_ids = '[99]' WHERE id = %s", [rows[1].id])
        cursor.execute("ALTER TABLE casework_accesslog ENABLE TRIGGER USER")
    checked, problem = verify_day(rows[0].day)
    assert checked == 1
    assert problem.row_id == rows[1].id


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_linear_chain(personas):
    user = personas.caseworker_a
    errors = []

    def writer():
        try:
            for i in range(10):
                log_access(actor=user, action=AccessLog.Action.VIEW, object_id=i)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    day = AccessLog.objects.first().day
    assert verify_day(day) == (40, None)


def _hold_stream(day, stream):
    """Hold one stream's lock from another connection (a writer in the middle of its transaction)."""
    from casework.audit import LOCK_CLASS, _stream_lock_key

    settings = connection.settings_dict
    raw = psycopg.connect(
        dbname=settings["NAME"], user=settings["USER"], host=settings["HOST"], port=settings["PORT"] or 5432
    )
    raw.execute("SELECT pg_advisory_lock(%s, %s)", [LOCK_CLASS, _stream_lock_key(day, stream)])
    return raw


def _tamper(sql, params):
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE casework_accesslog DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE casework_accesslog ENABLE TRIGGER USER")


# Committed writes: a stream's lock lasts as long as the writer's transaction, as in production.
@pytest.mark.django_db(transaction=True)
def test_a_writer_takes_the_next_stream_while_one_is_busy_and_each_stream_verifies(personas):
    from django.utils import timezone

    day = timezone.localdate()
    first = log_access(actor=personas.caseworker_a, action=AccessLog.Action.VIEW, object_id=1)
    holder = _hold_stream(day, 0)
    try:
        beside = [log_access(actor=personas.caseworker_a, action=AccessLog.Action.VIEW, object_id=i) for i in (2, 3)]
    finally:
        holder.close()
    after = log_access(actor=personas.caseworker_a, action=AccessLog.Action.VIEW, object_id=4)
    assert (first.stream, first.seq) == (0, 1) and (after.stream, after.seq) == (0, 2)
    assert [(r.stream, r.seq) for r in beside] == [(1, 1), (1, 2)]
    assert beside[0].prev_hash == GENESIS and beside[1].prev_hash == beside[0].hash
    assert verify_day(day) == (4, None)
    # Moving a row to another stream breaks its hash (the stream is hashed).
    _tamper("UPDATE casework_accesslog SET stream = 2 WHERE id = %s", [beside[1].id])
    checked, problem = verify_day(day)
    assert problem is not None and problem.row_id == beside[1].id


@pytest.mark.django_db(transaction=True)
def test_the_anchors_name_a_removed_stream_and_a_removed_stream_tail(personas, tmp_path):
    import json
    from io import StringIO

    from django.core.management import CommandError, call_command
    from django.utils import timezone

    day = timezone.localdate()
    log_access(actor=personas.caseworker_a, action=AccessLog.Action.VIEW)
    holder = _hold_stream(day, 0)
    try:
        stream1 = [log_access(actor=personas.caseworker_a, action=AccessLog.Action.VIEW) for _ in range(3)]
        holder2 = _hold_stream(day, 1)
        try:
            stream2 = [log_access(actor=personas.caseworker_a, action=AccessLog.Action.VIEW) for _ in range(2)]
        finally:
            holder2.close()
    finally:
        holder.close()
    assert {r.stream for r in stream1} == {1} and {r.stream for r in stream2} == {2}
    anchors = tmp_path / "anchors.jsonl"
    call_command("anchor_access_log", "--output", str(anchors), stdout=StringIO(), stderr=StringIO())
    record = json.loads(anchors.read_text().splitlines()[-1])
    assert record["streams"] == {
        "0": {"seq": 1, "hash": record["hash"]},
        "1": {"seq": 3, "hash": stream1[-1].hash},
        "2": {"seq": 2, "hash": stream2[-1].hash},
    }
    assert record["rows"] == 6
    # Stream 2 removed altogether: the rest verifies; the anchor names the stream.
    _tamper("DELETE FROM casework_accesslog WHERE stream = 2 AND day = %s", [day])
    assert verify_day(day) == (4, None)
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_access_log", "--anchors", str(anchors), stdout=out)
    assert "系列2 はアンカーでは 2 行ありましたが、系列ごとありません" in out.getvalue()
    # The tail of stream 1 removed too: each stream still verifies alone; the anchor names the missing row.
    _tamper("DELETE FROM casework_accesslog WHERE id = %s", [stream1[-1].id])
    assert verify_day(day) == (3, None)
    with pytest.raises(CommandError, match=f"{day.isoformat()} 系列1 の連番 3 がありません"):
        call_command("verify_access_log", "--anchors", str(anchors), stdout=StringIO())
