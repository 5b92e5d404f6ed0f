"""A server process killed in the middle of a case intake leaves either every row of it or none."""

import threading
import time

import pytest

from tests.faults.conftest import OUTCOMES

pytestmark = [pytest.mark.faults]

HOUSEHOLD = "強制終了テスト世帯"
FAMILY_NAME = "途中"

INTAKE = {
    "household_name": HOUSEHOLD,
    "domains": ["elderly", "poverty"],
    "main_category": "care",
    "intake_route": "family",
    "opened_on": "令和7年6月1日",
    "summary": "80代の母と50代の息子",
    "p1-family_name": FAMILY_NAME,
    "p1-given_name": "ハル",
    "p1-family_name_kana": "とちゅう",
    "p1-given_name_kana": "はる",
    "p1-birth_date": "昭和19年5月1日",
    "p1-relationship": "self",
    "p1-lives_together": "on",
    "p1-is_subject": "on",
    "p2-family_name": FAMILY_NAME,
    "p2-given_name": "一郎",
    "p2-family_name_kana": "とちゅう",
    "p2-given_name_kana": "いちろう",
    "p2-birth_date": "1974-02-10",
    "p2-relationship": "child",
    "p2-lives_together": "on",
    "p2-is_subject": "on",
}

# Every row the intake writes, counted for this household only.
COUNTS = """
SELECT
  (SELECT count(*) FROM casework_household WHERE name = %(h)s),
  (SELECT count(*) FROM casework_person WHERE family_name = %(f)s),
  (SELECT count(*) FROM casework_householdmember m JOIN casework_household h ON h.id = m.household_id
     WHERE h.name = %(h)s),
  (SELECT count(*) FROM casework_case c JOIN casework_household h ON h.id = c.household_id WHERE h.name = %(h)s),
  (SELECT count(*) FROM casework_casesubject s JOIN casework_case c ON c.id = s.case_id
     JOIN casework_household h ON h.id = c.household_id WHERE h.name = %(h)s),
  (SELECT count(*) FROM casework_casedomain d JOIN casework_case c ON c.id = d.case_id
     JOIN casework_household h ON h.id = c.household_id WHERE h.name = %(h)s),
  (SELECT count(*) FROM casework_accesslog l JOIN casework_case c ON l.object_id = c.id::text
     JOIN casework_household h ON h.id = c.household_id
     WHERE h.name = %(h)s AND l.object_type = 'case' AND l.action = 'create')
"""
ALL_ROWS = (1, 2, 2, 1, 2, 2, 1)
NO_ROWS = (0, 0, 0, 0, 0, 0, 0)

# Test-only, and only in the throwaway database: hold the intake inside its transaction, after the
# household, people and case are written and before the case's domains, grant and access-log row.
PAUSE = """
CREATE FUNCTION faults_pause() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_sleep(120); RETURN NEW; END $$;
CREATE TRIGGER faults_pause BEFORE INSERT ON casework_casedomain FOR EACH ROW EXECUTE FUNCTION faults_pause();
"""
UNPAUSE = "DROP TRIGGER IF EXISTS faults_pause ON casework_casedomain; DROP FUNCTION IF EXISTS faults_pause();"


WRITTEN_TABLES = """
SELECT c.relname FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
WHERE l.pid = %s AND l.mode = 'RowExclusiveLock' AND c.relkind = 'r'
"""


def _counts(stack) -> tuple:
    return tuple(stack.query(COUNTS, {"h": HOUSEHOLD, "f": FAMILY_NAME})[0])


def _paused_backends(stack) -> list[int]:
    rows = stack.query("SELECT pid FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND datname = current_database()")
    return [row[0] for row in rows]


def _wait(condition, what: str, deadline_s: float = 60) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


def test_a_worker_killed_inside_the_intake_transaction_leaves_no_partial_rows(stack, servers, visitor):
    victim = stack.daphne()
    client = visitor(victim, "caseworker")
    client.get("/cases/new/")
    assert _counts(stack) == NO_ROWS
    with stack.postgres.connect() as conn:
        conn.execute(PAUSE)
    try:
        outcome = {}

        def submit():
            try:
                outcome["response"] = client.post("/cases/new/", INTAKE, timeout=120)
            except OSError as exc:  # the server died under the request
                outcome["error"] = exc

        submitter = threading.Thread(target=submit)
        submitter.start()
        _wait(lambda: _paused_backends(stack), "the intake to pause inside its transaction")
        # The paused transaction has already written the household, the people and the case.
        (pid,) = _paused_backends(stack)
        written = {row[0] for row in stack.query(WRITTEN_TABLES, (pid,))}
        victim.process.kill()  # SIGKILL: no cleanup, no exception handler runs
        victim.process.wait()
        submitter.join(30)
        _wait(lambda: not _paused_backends(stack), "PostgreSQL to end the dead worker's transaction")
        assert "response" not in outcome, outcome
        after_kill = _counts(stack)
    finally:
        with stack.postgres.connect() as conn:
            conn.execute(UNPAUSE)
    assert {"casework_household", "casework_person", "casework_case", "casework_casesubject"} <= written
    assert after_kill == NO_ROWS

    # The same intake through a live process commits every row: the transaction is all or nothing.
    survivor = visitor(servers[0], "caseworker")
    response = survivor.post("/cases/new/", INTAKE)
    assert response.status == 302, response.body[:500]
    assert _counts(stack) == ALL_ROWS
    OUTCOMES.append(
        f"worker killed mid-request: intake paused inside its transaction after writing to {len(written)} tables, SIGKILL → rows {after_kill} "
        f"(none); the same intake on a live process → rows {_counts(stack)} (all)"
    )
