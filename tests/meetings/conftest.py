"""Fixtures for the meetings tests: a layered meeting with a consented case on its agenda."""

import asyncio
import concurrent.futures

import pytest

from tests.factories import give_layered_consent, make_meeting, make_meeting_case, put_on_agenda


def run_async(coroutine_function, *args):
    """Run a coroutine on a fresh event loop in its own thread.

    Playwright's sync API keeps an event loop running in the main thread once a browser test has
    run, so asyncio.run() (and pytest-asyncio) cannot be used there afterwards.
    """
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine_function(*args)).result()


@pytest.fixture
def case_a(personas):
    """A case of window A in planning with a proposed plan, every subject consenting to 重層的支援会議."""
    from casework.services.plans import plan_create

    case = make_meeting_case(lead_organization=personas.window_a, lead_worker=personas.caseworker_a, state="planning")
    give_layered_consent(case, by=personas.caseworker_a)
    plan_create(case=case, goals="週1回の訪問で生活を整える", by=personas.caseworker_a)
    return case


@pytest.fixture
def layered(personas, case_a):
    """A 重層的支援会議 chaired by the municipality with window A's caseworker and the coordinator."""

    meeting = make_meeting(
        chair=personas.chair,
        secretary=personas.coordinator,
        participants=[personas.caseworker_a],
        kind="layered_meeting",
    )
    put_on_agenda(meeting=meeting, case=case_a, purpose="plan_agreement", by=personas.chair)
    meeting.refresh_from_db()
    return meeting


# ---------------------------------------------------------------------------
# Real server processes (daphne) on the test database and Redis
# ---------------------------------------------------------------------------

import os  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from pathlib import Path  # noqa: E402
from urllib.parse import urlsplit, urlunsplit  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daphne:
    """One daphne process serving config.asgi on a free port."""

    def __init__(self, env: dict, *, frame_limits: bool = True):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(ROOT / "var" / f"daphne-test-{self.port}.log", "w+b")  # noqa: SIM115
        from meetings.consumers import MAX_FRAME_BYTES

        daphne = Path(sys.executable).with_name("daphne")
        # The same frame limits as `make demo` and the README's deployment line.
        limits = [
            "--websocket-max-message-size",
            str(MAX_FRAME_BYTES),
            "--websocket-max-frame-size",
            str(MAX_FRAME_BYTES),
        ]
        limits = limits if frame_limits else []
        self.process = subprocess.Popen(
            [str(daphne), *limits, "-b", "127.0.0.1", "-p", str(self.port), "config.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        self.log.seek(0)
        raise RuntimeError(f"daphne did not start: {self.log.read()[-2000:].decode(errors='replace')}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


@pytest.fixture(scope="session")
def daphne_servers(django_db_setup, django_db_blocker):
    """Start two daphne processes sharing the test database and Redis; always stop them."""
    from django.conf import settings
    from django.db import connection

    parts = urlsplit(os.environ["DATABASE_URL"])
    test_db_url = urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))
    (ROOT / "var").mkdir(exist_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": test_db_url,
        "REDIS_URL": os.environ["REDIS_URL"],
        "SECRET_KEY": settings.SECRET_KEY,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    servers = [Daphne(env), Daphne(env)]
    try:
        for server in servers:
            server.wait_ready()
        yield servers
    finally:
        for server in servers:
            server.stop()


def session_cookie(user) -> str:
    """Sign the user in through a real session row and return the cookie value."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value
