"""The access log's commands: verify (chain and anchors), anchor and retention report."""

import json
import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.utils import timezone

from casework.audit import GENESIS, log_access
from casework.models import AccessLog


def write_rows(user, count: int) -> list[AccessLog]:
    return [
        log_access(actor=user, action=AccessLog.Action.VIEW, object_type="case", object_id=i, person_ids=[i])
        for i in range(count)
    ]


def tamper(sql: str, params=()) -> None:
    """Change the table as its owner would, with the append-only triggers switched off."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE casework_accesslog DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE casework_accesslog ENABLE TRIGGER USER")


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.mark.django_db
def test_verify_passes_on_a_good_chain_and_counts_rows(personas):
    write_rows(personas.caseworker_a, 3)
    output = run("verify_access_log")
    assert f"{timezone.localdate().isoformat()}: OK 3 行" in output
    assert "検証成功: 1 日分 3 行" in output


@pytest.mark.django_db
def test_verify_names_the_row_altered_with_triggers_disabled(personas):
    rows = write_rows(personas.caseworker_a, 3)
    tamper("UPDATE casework_accesslog SET person_ids = '[4242]' WHERE id = %s", [rows[1].id])
    with pytest.raises(CommandError) as error:
        run("verify_access_log", "--date", rows[0].day.isoformat())
    message = str(error.value)
    assert f"連番 2 ID {rows[1].id}" in message and "改ざん" in message


@pytest.mark.django_db
def test_verify_finds_a_deleted_row_as_a_gap_in_seq(personas):
    rows = write_rows(personas.caseworker_a, 4)
    tamper("DELETE FROM casework_accesslog WHERE id = %s", [rows[1].id])
    with pytest.raises(CommandError, match="連番 2 ID .*削除の疑い"):
        run("verify_access_log")


@pytest.mark.django_db
def test_verify_exits_non_zero_from_the_command_line(personas):
    rows = write_rows(personas.caseworker_a, 2)
    tamper("UPDATE casework_accesslog SET reason = 'x' WHERE id = %s", [rows[0].id])
    with pytest.raises(SystemExit) as exit_info:
        from django.core.management import ManagementUtility

        ManagementUtility(["manage.py", "verify_access_log"]).execute()
    assert exit_info.value.code == 1


@pytest.mark.django_db
def test_verify_accepts_a_wareki_date_and_rejects_a_malformed_one(personas):
    write_rows(personas.caseworker_a, 1)
    today = timezone.localdate()
    wareki = f"令和{today.year - 2018}年{today.month}月{today.day}日"
    assert "OK 1 行" in run("verify_access_log", "--date", wareki)
    with pytest.raises(CommandError, match="日付として読めません"):
        run("verify_access_log", "--date", "2025-13-45x")


@pytest.mark.django_db
def test_anchor_writes_the_head_and_verify_checks_it(personas, tmp_path):
    rows = write_rows(personas.caseworker_a, 3)
    anchors = tmp_path / "anchors.jsonl"
    call_command("anchor_access_log", "--output", str(anchors), stdout=StringIO(), stderr=StringIO())
    record = json.loads(anchors.read_text().splitlines()[0])
    assert record["day"] == rows[0].day.isoformat()
    assert (record["seq"], record["hash"], record["rows"]) == (3, rows[2].hash, 3)
    assert "アンカー照合: 1 件" in run("verify_access_log", "--anchors", str(anchors))

    # Removing the last row leaves a chain that verifies on its own; only the anchor notices.
    tamper("DELETE FROM casework_accesslog WHERE id = %s", [rows[2].id])
    with pytest.raises(CommandError, match="連番 3 .*削除の疑い"):
        run("verify_access_log", "--anchors", str(anchors))


@pytest.mark.django_db
def test_anchor_prints_json_to_stdout_and_genesis_for_an_empty_day(personas):
    record = json.loads(run("anchor_access_log", "--date", "2020-01-01"))
    assert record == {**record, "day": "2020-01-01", "seq": 0, "hash": GENESIS, "rows": 0}


@pytest.mark.django_db
def test_anchor_refuses_to_vouch_for_a_broken_chain(personas):
    rows = write_rows(personas.caseworker_a, 2)
    tamper("UPDATE casework_accesslog SET actor_username = 'someone' WHERE id = %s", [rows[0].id])
    with pytest.raises(CommandError, match="アンカーを書きません"):
        run("anchor_access_log")


@pytest.mark.django_db
def test_retention_reports_old_rows_by_day_and_deletes_nothing(personas, settings):
    settings.ACCESS_LOG_RETENTION_DAYS = 30
    rows = write_rows(personas.caseworker_a, 3)
    old = timezone.localdate() - timedelta(days=40)
    # Move two rows into an old day's chain, as if written 40 days ago.
    tamper("UPDATE casework_accesslog SET day = %s WHERE id IN (%s, %s)", [old, rows[0].id, rows[1].id])
    output = run("access_log_retention")
    assert "保存期間: 30 日" in output
    assert f"{old.isoformat()}: 2 行" in output
    assert "合計 2 行（1 日分）" in output
    assert AccessLog.objects.count() == 3


@pytest.mark.django_db
def test_retention_reports_nothing_when_all_rows_are_recent(personas):
    write_rows(personas.caseworker_a, 2)
    assert "合計 0 行" in run("access_log_retention")


@pytest.mark.django_db(transaction=True)
def test_verify_passes_after_concurrent_writes_from_threads(personas):
    user = personas.caseworker_a
    errors = []

    def writer(offset):
        try:
            for i in range(8):
                log_access(actor=user, action=AccessLog.Action.LIST, person_ids=[offset, offset + i])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n * 100,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert "検証成功: 1 日分 24 行" in run("verify_access_log")
