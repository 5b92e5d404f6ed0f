"""Issue 15 row 15 on a real deployment shape: the app runs as a non-owner role that may only append to the log.

The throwaway stack migrates as the owner with DATABASE_APP_ROLE set, so the app role got SELECT and
INSERT on the access log only; the daphne processes started (they refuse to as a role that could
shorten the log). Here the app role tries the attack from the issue directly in SQL, and the owner
deletes a tail that `verify_access_log --anchors` then names.
"""

import json
from pathlib import Path

import psycopg
import pytest

from casework.audit.roles import APPEND_ONLY_TRIGGERS
from tests.faults.conftest import OUTCOMES
from tests.faults.servers import APP_ROLE, DATABASE

pytestmark = [pytest.mark.faults]

IGNORE = "SET LOCAL pgtrigger.ignore = '{%s}'" % ",".join(APPEND_ONLY_TRIGGERS)  # noqa: UP031
ATTACKS = [
    "DELETE FROM casework_accesslog WHERE id IN (SELECT id FROM casework_accesslog ORDER BY day DESC, seq DESC LIMIT 2)",
    "UPDATE casework_accesslog SET person_ids = '[]'",
    "TRUNCATE casework_accesslog CASCADE",
    "ALTER TABLE casework_accesslog DISABLE TRIGGER USER",
    "SET LOCAL session_replication_role = replica",
]


def _rows(stack) -> int:
    return stack.query("SELECT count(*) FROM casework_accesslog")[0][0]


def test_the_app_role_cannot_shorten_the_access_log(stack, servers, visitor):
    client = visitor(servers[0], "caseworker")
    assert stack.seed["secret_name"] in client.get(f"/cases/{stack.seed['case']}/").body
    before = _rows(stack)
    refused = []
    with psycopg.connect(
        host="127.0.0.1", port=stack.postgres.port, user=APP_ROLE, dbname=DATABASE, autocommit=True
    ) as conn:
        for attack in ATTACKS:
            with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
                conn.execute(IGNORE)
                conn.execute(attack)
            refused.append(attack.split()[0])
        # The app role still appends: the page opens and writes its row.
    assert _rows(stack) == before
    assert stack.seed["secret_name"] in client.get(f"/cases/{stack.seed['case']}/").body
    assert _rows(stack) == before + 1
    # `check --deploy` with the app's own environment finds no way to shorten the log.
    output = stack.manage("check", "--deploy", "--fail-level", "ERROR")
    assert "casework.E015" not in output
    OUTCOMES.append(f"access log: the app role's {', '.join(refused)} refused (pgtrigger.ignore set); rows kept")


def test_a_tail_deleted_by_the_owner_is_named_by_the_anchors(stack, servers, visitor, tmp_path):
    client = visitor(servers[0], "caseworker")
    for _ in range(3):
        client.get(f"/cases/{stack.seed['case']}/")
    anchors = tmp_path / "anchors.jsonl"
    stack.manage("anchor_access_log", "--output", str(anchors))
    head = json.loads(Path(anchors).read_text().splitlines()[-1])
    with stack.postgres.connect() as conn, conn.transaction():
        # Only the owner (here a superuser) can switch the triggers off.
        conn.execute("ALTER TABLE casework_accesslog DISABLE TRIGGER USER")
        conn.execute("DELETE FROM casework_accesslog WHERE day = %s AND seq > %s", (head["day"], head["seq"] - 2))
        conn.execute("ALTER TABLE casework_accesslog ENABLE TRIGGER USER")
        for name in APPEND_ONLY_TRIGGERS:
            conn.execute(f"ALTER TABLE casework_accesslog ENABLE ALWAYS TRIGGER {name}")
    with pytest.raises(RuntimeError) as error:
        stack.manage("verify_access_log", "--anchors", str(anchors))
    expected = f"{head['day']} の連番 {head['seq'] - 1}..{head['seq']} がありません"
    assert expected in str(error.value)
    OUTCOMES.append(f"access log: a tail deleted by the owner was named by verify --anchors: {expected}")
