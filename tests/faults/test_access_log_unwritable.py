"""The access log unwritable (INSERT revoked from the app's role): sensitive reads are refused, nothing leaks."""

import pytest

from tests.faults.conftest import OUTCOMES
from tests.faults.servers import APP_ROLE

pytestmark = [pytest.mark.faults]

REFUSED_TEXT = "アクセス記録を書き込めないため"


def _log_rows(stack) -> int:
    return stack.query("SELECT count(*) FROM casework_accesslog")[0][0]


def test_sensitive_pages_are_refused_while_the_access_log_cannot_be_written(stack, servers, visitor):
    seed = stack.seed
    client = visitor(servers[0], "caseworker")
    pages = [f"/cases/{seed['case']}/", "/cases/", f"/meetings/{seed['meeting']}/"]
    for path in pages:
        assert seed["secret_name"] in client.get(path).body, path
    with stack.postgres.connect() as conn:
        conn.execute(f"REVOKE INSERT ON casework_accesslog FROM {APP_ROLE}")
    try:
        rows_before = _log_rows(stack)
        refused = {path: client.get(path) for path in pages}
        rows_after = _log_rows(stack)
    finally:
        with stack.postgres.connect() as conn:
            conn.execute(f"GRANT INSERT ON casework_accesslog TO {APP_ROLE}")
    for path, response in refused.items():
        assert response.status == 503, (path, response.status)
        assert REFUSED_TEXT in response.body, path
        assert seed["secret_name"] not in response.body, path
        assert "Traceback" not in response.body and "permission denied" not in response.body
    assert rows_after == rows_before
    # Once the log can be written again, the same pages open (and are logged).
    assert seed["secret_name"] in client.get(pages[0]).body
    assert _log_rows(stack) == rows_after + 1
    OUTCOMES.append(
        f"access log unwritable: {len(refused)} sensitive pages answered 503 without personal data; "
        "they open again once INSERT is granted back"
    )
