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
