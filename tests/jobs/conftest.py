"""Real worker processes (`manage.py run_worker`) on the test database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.jobs.probes import TABLE

ROOT = Path(__file__).resolve().parents[2]


class WorkerProcess:
    def __init__(self, env: dict, name: str):
        (ROOT / "var").mkdir(exist_ok=True)
        self.log = open(ROOT / "var" / f"worker-test-{name}-{os.getpid()}.log", "w+b")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "run_worker", "--no-reload", "--interval", "0.1", "--worker-id", name],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-3000:]


@pytest.fixture
def start_worker(transactional_db):
    """Start worker processes on the test database; every one is stopped at the end."""
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("worker processes share the queue on PostgreSQL")
    parts = urlsplit(os.environ["DATABASE_URL"])
    env = {
        **os.environ,
        "DATABASE_URL": urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"])),
        "SECRET_KEY": settings.SECRET_KEY,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "LOG_LEVEL": "WARNING",
        "JOB_HEARTBEAT_SECONDS": "1",
        "JOB_WORKER_STALE_SECONDS": "3",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    started: list[WorkerProcess] = []

    def start(name: str, **extra_env) -> WorkerProcess:
        worker = WorkerProcess({**env, **extra_env}, name)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def probe_table(transactional_db):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (n integer NOT NULL, pid integer NOT NULL)")
        cursor.execute(f"DELETE FROM {TABLE}")  # noqa: S608
    yield TABLE
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")


def wait_for(condition, what: str, deadline_s: float = 120) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what}")
