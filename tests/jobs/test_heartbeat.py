"""The worker's heartbeat is written from its own loop (no thread) and /healthz reports its age."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from casework import jobs
from casework.models import AccessLog, WorkerHeartbeat
from tests.jobs.conftest import wait_for
from tests.jobs.probes import record_run, record_run_beating


def _health(client):
    response = client.get("/healthz")
    assert response["Cache-Control"] == "no-store"
    return response.status_code, response.json()


@pytest.mark.django_db(transaction=True)
def test_the_worker_beats_from_its_own_loop_without_starting_a_thread(monkeypatch):
    started = []
    original_start = threading.Thread.start

    def spy(thread):
        started.append(thread.name)
        return original_start(thread)

    monkeypatch.setattr(threading.Thread, "start", spy)
    record_run.enqueue(1)  # the probe table is absent: the job fails, the loop goes on
    call_command("run_worker", "--batch", "--no-reload", "--no-startup-delay", "--worker-id", "loop", verbosity=0)
    assert started == []
    beat = WorkerHeartbeat.objects.get(worker_id="loop")
    assert beat.stopped_at is not None, "a worker that exits says so"
    assert DBTaskResult.objects.get().worker_ids == ["loop"]


@pytest.mark.django_db
def test_a_pulse_beats_at_most_once_per_interval(settings, django_assert_num_queries):
    settings.JOB_HEARTBEAT_SECONDS = 60
    pulse = jobs.Pulse("p1")
    pulse.tick()
    first = WorkerHeartbeat.objects.get(worker_id="p1").beat_at
    with django_assert_num_queries(0):
        pulse.tick()
    assert WorkerHeartbeat.objects.get(worker_id="p1").beat_at == first
    pulse.tick(force=True)
    assert WorkerHeartbeat.objects.get(worker_id="p1").beat_at > first


@pytest.mark.django_db
def test_still_working_outside_a_worker_writes_nothing():
    jobs.still_working()
    assert not WorkerHeartbeat.objects.exists()


def _beat(worker_id: str, seconds_ago: float, *, stopped: bool = False) -> None:
    at = timezone.now() - timedelta(seconds=seconds_ago)
    WorkerHeartbeat.objects.create(
        worker_id=worker_id, hostname="h", pid=1, started_at=at, beat_at=at, stopped_at=at if stopped else None
    )


@pytest.mark.django_db
def test_healthz_is_degraded_when_no_worker_ever_beat(client, settings):
    settings.HEALTH_WORKER_MAX_AGE_SECONDS = 60
    status, body = _health(client)
    assert status == 200
    assert body["status"] == "degraded"
    assert body["degraded"] == ["worker"]
    assert body["database"] == "ok"
    assert body["workers"] == [] and body["worker_heartbeat_age_seconds"] is None
    assert body["worker_heartbeat_limit_seconds"] == 60


@pytest.mark.django_db
def test_healthz_shows_each_running_workers_heartbeat_age(client, settings):
    settings.HEALTH_WORKER_MAX_AGE_SECONDS = 60
    _beat("fresh", 2)
    _beat("older", 30)
    _beat("gone-cleanly", 1, stopped=True)
    status, body = _health(client)
    assert status == 200
    assert body["status"] == "ok" and body["degraded"] == []
    ages = [w["heartbeat_age_seconds"] for w in body["workers"]]
    assert len(ages) == 2, "a worker that stopped cleanly is not listed"
    assert 1.5 <= ages[0] < 10 and 29 <= ages[1] < 40
    assert body["worker_heartbeat_age_seconds"] == ages[0]
    assert "fresh" not in str(body) and "h" not in {w.get("hostname") for w in body["workers"]}


@pytest.mark.django_db
def test_healthz_is_degraded_when_the_freshest_beat_is_past_the_limit(client, settings):
    settings.HEALTH_WORKER_MAX_AGE_SECONDS = 60
    _beat("stuck", 90)
    status, body = _health(client)
    assert status == 200
    assert body["status"] == "degraded" and "worker" in body["degraded"]
    assert body["workers"][0]["heartbeat_age_seconds"] >= 90


@pytest.mark.django_db
def test_healthz_needs_no_login_and_writes_no_access_log_row(client):
    _beat("fresh", 1)
    client.get("/healthz")
    assert not AccessLog.objects.exists()


@pytest.mark.django_db
def test_healthz_names_an_unreachable_redis(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    _beat("fresh", 1)
    status, body = _health(client)
    assert status == 200
    assert body["redis"] == "unreachable"
    assert body["status"] == "degraded" and body["degraded"] == ["redis"]


def test_a_living_workers_long_job_is_not_taken_by_another(start_worker, probe_table):
    # Stale after 3 s (conftest); the job runs 6 s and beats through still_working().
    result = record_run_beating.enqueue(5, 6)
    start_worker("long")
    wait_for(lambda: DBTaskResult.objects.get(pk=result.id).status == "RUNNING", "the job to start")
    start_worker("other")
    wait_for(lambda: DBTaskResult.objects.get(pk=result.id).status == "SUCCESSFUL", "the job to finish")
    assert DBTaskResult.objects.get(pk=result.id).worker_ids == ["long"]


def test_healthz_reports_a_killed_worker(start_worker, live_server, settings):
    import json
    import urllib.request

    settings.HEALTH_WORKER_MAX_AGE_SECONDS = 3
    worker = start_worker("killed")
    wait_for(lambda: WorkerHeartbeat.objects.filter(worker_id="killed").exists(), "the first beat")

    def health():
        with urllib.request.urlopen(f"{live_server.url}/healthz", timeout=5) as response:  # noqa: S310 - loopback
            return json.loads(response.read())

    assert health()["status"] == "ok" or health()["degraded"] == ["redis"]
    worker.kill()
    wait_for(lambda: "worker" in health()["degraded"], "the stale heartbeat to show", deadline_s=30)
    # The age is rounded to 0.1 s, so a beat just past the 3 s limit may read 3.0.
    assert health()["workers"][0]["heartbeat_age_seconds"] >= 3
