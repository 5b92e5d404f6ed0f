"""The fault tests' own world: a throwaway PostgreSQL and Redis, and daphne processes serving the app on them.

Nothing here touches the shared servers on 5432/6379 or pytest-django's test database: the app runs in
subprocesses, and the tests read the throwaway database directly with psycopg.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.faults.servers import APP_ROLE, ThrowawayPostgres, ThrowawayRedis, postgres_bin_dir
from tests.meetings.conftest import Daphne

ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = "fault-tests-only-" + "x" * 40
# Outcomes the tests record for the summary at the end of the run.
OUTCOMES: list[str] = []


def pytest_terminal_summary(terminalreporter):
    if OUTCOMES:
        terminalreporter.section("fault tests")
        for line in OUTCOMES:
            terminalreporter.write_line(line)


@dataclass
class Stack:
    """The throwaway servers, the environment for app processes, and the seeded rows."""

    postgres: ThrowawayPostgres
    redis: ThrowawayRedis
    env: dict
    seed: dict
    servers: list[Daphne] = field(default_factory=list)

    def daphne(self) -> Daphne:
        """Start one more daphne process on the throwaway servers and wait until it answers."""
        server = Daphne(self.env)
        self.servers.append(server)
        server.wait_ready()
        return server

    def manage(self, *args: str, env: dict | None = None) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env or self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
        return result.stdout

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self.postgres.connect() as conn:
            return conn.execute(sql, params).fetchall()


def _app_env(postgres: ThrowawayPostgres, redis: ThrowawayRedis, data_dir: Path) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_ALLOW_ASYNC_UNSAFE", "PYTEST_CURRENT_TEST", "PYTEST_VERSION"}
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": postgres.url(APP_ROLE),
            "REDIS_URL": redis.url,
            "SECRET_KEY": SECRET_KEY,
            "DEBUG": "false",
            "DATA_DIR": str(data_dir),
            # A request waits this long for a connection during an outage before it gets the 503 page.
            "DATABASE_POOL_TIMEOUT": "2",
            "LOG_LEVEL": "WARNING",
            # migrate (as the owner) grants this role SELECT/INSERT only on the access log.
            "DATABASE_APP_ROLE": APP_ROLE,
        }
    )
    return env


@pytest.fixture(scope="session")
def stack():
    """Start the throwaway PostgreSQL and Redis, migrate, seed; stop and delete everything at the end."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    (ROOT / "var").mkdir(exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(prefix="jusou-faults-data-"))
    postgres = ThrowawayPostgres(bin_dir)
    redis = ThrowawayRedis()
    stack = None
    try:
        postgres.init()
        postgres.start()
        postgres.create_database()
        redis.start()
        env = _app_env(postgres, redis, data_dir)
        # Migrations run as the owner; the app runs as a role that only reads and writes rows.
        stack = Stack(postgres, redis, env, seed={})
        stack.manage("migrate", "--noinput", env={**env, "DATABASE_URL": postgres.url()})
        # migrate granted the app role its rights (DATABASE_APP_ROLE); the command is the documented step.
        stack.manage("grant_app_role", APP_ROLE, env={**env, "DATABASE_URL": postgres.url()})
        seeded = subprocess.run(
            [sys.executable, "-m", "tests.faults.seed"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if seeded.returncode != 0:
            raise RuntimeError(f"seeding failed:\n{seeded.stderr[-4000:]}")
        stack.seed = json.loads(seeded.stdout.strip().splitlines()[-1])
        yield stack
    finally:
        if stack is not None:
            for server in stack.servers:
                server.stop()
        redis.stop()
        postgres.destroy()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def servers(stack):
    """Two daphne processes sharing the throwaway PostgreSQL and Redis."""
    first, second = Daphne(stack.env), Daphne(stack.env)
    stack.servers.extend([first, second])
    first.wait_ready()
    second.wait_ready()
    return first, second


@pytest.fixture
def redis_up(stack):
    """Make sure Redis runs again after a test that stopped it."""
    yield stack.redis
    if stack.redis.process is None:
        stack.redis.start()


# ---------------------------------------------------------------------------
# A tiny HTTP client with a session cookie and CSRF
# ---------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Response:
    status: int
    body: str
    headers: dict


class Browser:
    """Requests against one server with a cookie jar of session and CSRF cookies, redirects not followed."""

    def __init__(self, base_url: str, cookie_name: str, session: str | None = None):
        self.base_url = base_url
        self.cookies: dict[str, str] = {}
        if session:
            self.cookies[cookie_name] = session
        self.opener = urllib.request.build_opener(_NoRedirect)

    def request(self, path: str, data: dict | None = None, timeout: float = 30) -> Response:
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        request = urllib.request.Request(self.base_url + path, data=body, method="POST" if data is not None else "GET")
        request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if data is not None:
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
            request.add_header("Referer", self.base_url + path)
        try:
            with self.opener.open(request, timeout=timeout) as raw:
                status, text, headers = raw.status, raw.read().decode(errors="replace"), raw.headers
        except urllib.error.HTTPError as exc:
            status, text, headers = exc.code, exc.read().decode(errors="replace"), exc.headers
        for cookie in headers.get_all("Set-Cookie") or []:
            name, _, value = cookie.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip().strip('"')
        return Response(status, text, dict(headers))

    def get(self, path: str, timeout: float = 30) -> Response:
        return self.request(path, timeout=timeout)

    def post(self, path: str, data: dict, timeout: float = 30) -> Response:
        if "csrftoken" not in self.cookies:
            self.get(path)
        return self.request(path, {**data, "csrfmiddlewaretoken": self.cookies["csrftoken"]}, timeout=timeout)


@pytest.fixture
def visitor(stack):
    """Return a function giving a Browser on a server, signed in as a seeded user (None: anonymous)."""

    def _visitor(server: Daphne, who: str | None = None) -> Browser:
        session = stack.seed[who]["cookie"] if who else None
        return Browser(server.url, stack.seed["cookie_name"], session)

    return _visitor


# Text that must never reach a user in an error page.
LEAK_MARKERS = ("Traceback", "OperationalError", "InterfaceError", "psycopg", "SELECT ", "INSERT ", SECRET_KEY)


def assert_clean_error_page(body: str, *, secret_name: str) -> None:
    """The body is the project's own Japanese page: no traceback, SQL, settings or personal data."""
    for marker in (*LEAK_MARKERS, secret_name):
        assert marker not in body, f"{marker!r} leaked into the error page"
    assert '<html lang="ja">' in body
