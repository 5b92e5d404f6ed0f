"""Issue 15, rows 8, 9, 15 and 18: the access log cannot be shortened by the app, and every response
that shows personal data is logged first, with ids and bases only, never cached."""

from __future__ import annotations

import json
import uuid
from io import StringIO

import pytest
from django.core import checks
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from casework.audit import log_access, verify_day
from casework.audit_roles import APPEND_ONLY_TRIGGERS, apply_grants, role_problems
from casework.models import AccessLog

pytestmark = pytest.mark.django_db


def write_rows(user, count: int) -> list[AccessLog]:
    return [
        log_access(actor=user, action=AccessLog.Action.VIEW, object_type="case", object_id=i, person_ids=[i])
        for i in range(count)
    ]


def e015(*, deploy: bool) -> list[str]:
    """Return the access-log role errors the system checks report (as `check [--deploy]` would)."""
    messages = checks.run_checks(include_deployment_checks=deploy, tags=[checks.Tags.security])
    return [m.msg for m in messages if m.id == "casework.E015"]


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


# ---------------------------------------------------------------------------
# Row 15: the application's database role cannot shorten the access log
# ---------------------------------------------------------------------------


class AppRole:
    """A non-owner, non-superuser role with the application's grants, created inside the test's transaction."""

    def __init__(self):
        self.name = f"jusou_test_app_{uuid.uuid4().hex[:10]}"
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE ROLE "{self.name}" NOLOGIN')
        apply_grants(self.name)

    def __enter__(self):
        with connection.cursor() as cursor:
            cursor.execute(f'SET ROLE "{self.name}"')
        return self

    def __exit__(self, *exc):
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


_EVERY_TRIGGER = [
    *APPEND_ONLY_TRIGGERS,
    # The names pgtrigger gave the old Protect triggers, in case any survived.
    "pgtrigger_accesslog_no_update_f3662",
    "pgtrigger_accesslog_no_delete_23a56",
    "pgtrigger_accesslog_no_truncate_280d9",
]
IGNORE_EVERY_TRIGGER = f"SET LOCAL pgtrigger.ignore = '{{{','.join(_EVERY_TRIGGER)}}}'"


def test_row_15_the_app_role_cannot_delete_the_tail_even_with_pgtrigger_ignore(personas):
    rows = write_rows(personas.caseworker_a, 4)
    attacks = [
        "DELETE FROM casework_accesslog WHERE id IN "
        "(SELECT id FROM casework_accesslog ORDER BY day DESC, seq DESC LIMIT 2)",
        "UPDATE casework_accesslog SET person_ids = '[]'",
        "TRUNCATE casework_accesslog CASCADE",
        "ALTER TABLE casework_accesslog DISABLE TRIGGER USER",
        f"ALTER TABLE casework_accesslog DISABLE TRIGGER {APPEND_ONLY_TRIGGERS[0]}",
        "SET LOCAL session_replication_role = replica",
    ]
    with AppRole():
        for attack in attacks:
            with pytest.raises(DatabaseError, match="permission denied|must be owner"), transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(IGNORE_EVERY_TRIGGER)
                    cursor.execute(attack)
        # What the role may do: read and append.
        assert AccessLog.objects.count() == 4
        write_rows(personas.caseworker_a, 1)
        assert role_problems() == []
    assert AccessLog.objects.count() == 5
    assert verify_day(rows[0].day) == (5, None)


def test_row_15_the_triggers_have_no_per_session_bypass(personas):
    """Even a role that was (wrongly) granted DELETE meets the trigger; pgtrigger.ignore changes nothing."""
    write_rows(personas.caseworker_a, 3)
    role = AppRole()
    with connection.cursor() as cursor:
        cursor.execute(f'GRANT UPDATE, DELETE ON casework_accesslog TO "{role.name}"')
    with role:
        for attack in ("DELETE FROM casework_accesslog", "UPDATE casework_accesslog SET reason = 'x'"):
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(IGNORE_EVERY_TRIGGER)
                    cursor.execute(attack)
    # The superuser connection of the tests, too, unless it switches the triggers off as the owner.
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(IGNORE_EVERY_TRIGGER)
            cursor.execute("DELETE FROM casework_accesslog")
    assert AccessLog.objects.count() == 3


def test_row_15_check_deploy_refuses_a_role_that_can_shorten_the_log(personas, settings):
    settings.DATABASE_APP_ROLE = ""
    role = AppRole()
    with role:
        assert e015(deploy=True) == []  # the bound role passes
    with connection.cursor() as cursor:
        cursor.execute(f'GRANT DELETE, TRUNCATE ON casework_accesslog TO "{role.name}"')
    with role:
        errors = e015(deploy=True)
    assert any("DELETE" in e for e in errors) and any("TRUNCATE" in e for e in errors)
    # The tests' own superuser owner is refused as well.
    errors = e015(deploy=True)
    assert any("スーパーユーザー" in e for e in errors) and any("所有者" in e for e in errors)


def test_row_15_with_database_app_role_set_every_command_checks_that_role(personas, settings):
    role = AppRole()
    settings.DATABASE_APP_ROLE = role.name
    with connection.cursor() as cursor:
        cursor.execute(f'GRANT UPDATE ON casework_accesslog TO "{role.name}"')
    with role:
        assert any("UPDATE" in e for e in e015(deploy=False))  # not only under --deploy
    # The owner (another role) running migrate or grant_app_role is not refused.
    assert e015(deploy=True) == []
    run("grant_app_role")
    with role:
        assert e015(deploy=True) == []  # the grants took UPDATE away again


def test_row_15_a_deleted_tail_is_named_by_verify_with_anchors(personas, tmp_path):
    rows = write_rows(personas.caseworker_a, 5)
    day = rows[0].day.isoformat()
    anchors = tmp_path / "anchors.jsonl"
    call_command("anchor_access_log", "--output", str(anchors), stdout=StringIO(), stderr=StringIO())
    call_command("anchor_access_log", "--output", str(anchors), stdout=StringIO(), stderr=StringIO())
    lines = [json.loads(line) for line in anchors.read_text().splitlines()]
    assert [(a["day"], a["seq"]) for a in lines] == [(day, 5)]  # idempotent: one line per head

    # The owner (or a superuser) deletes the last two rows: the chain alone still verifies.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE casework_accesslog DISABLE TRIGGER USER")
        cursor.execute("DELETE FROM casework_accesslog WHERE id IN (%s, %s)", [rows[3].id, rows[4].id])
    assert verify_day(rows[0].day) == (3, None)
    with pytest.raises(CommandError, match=f"{day} の連番 4..5 がありません"):
        run("verify_access_log", "--anchors", str(anchors))

    # The whole day removed: the anchors still say it had rows.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM casework_accesslog")
        cursor.execute("ALTER TABLE casework_accesslog ENABLE TRIGGER USER")
    with pytest.raises(CommandError, match=f"{day} はアンカーでは 5 行ありましたが、1行もありません"):
        run("verify_access_log", "--anchors", str(anchors))
