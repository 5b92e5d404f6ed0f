"""The job queue: workers share it without running a job twice, and a dead worker's job is recovered."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from casework import jobs
from casework.models import WorkerHeartbeat
from tests.jobs.conftest import wait_for
from tests.jobs.probes import record_run


def _runs(table: str) -> list[tuple[int, int]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT n, pid FROM {table}")  # noqa: S608
        return cursor.fetchall()


def _statuses() -> dict[str, int]:
    counts: dict[str, int] = {}
    for status in DBTaskResult.objects.values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return counts


def test_two_workers_run_200_jobs_each_exactly_once(start_worker, probe_table):
    for n in range(200):
        record_run.enqueue(n, 0.01)
    started = time.monotonic()
    workers = [start_worker("w1"), start_worker("w2")]
    wait_for(lambda: _statuses().get("SUCCESSFUL") == 200, "200 jobs to succeed")
    elapsed = time.monotonic() - started
    runs = _runs(probe_table)
    assert sorted(n for n, _ in runs) == list(range(200)), "each job ran exactly once"
    claims = {tuple(ids) for ids in DBTaskResult.objects.values_list("worker_ids", flat=True)}
    assert claims == {("w1",), ("w2",)}, "each job was claimed once, by one of the two workers"
    assert len({pid for _, pid in runs}) == 2, "both workers took jobs"
    assert all(w.process.poll() is None for w in workers)
    print(f"200 jobs on two workers in {elapsed:.1f} s (including start-up)")


def test_a_sigkilled_workers_job_is_run_again_by_another_worker(start_worker, probe_table):
    result = record_run.enqueue(7, 8)
    victim = start_worker("victim")
    wait_for(lambda: DBTaskResult.objects.get(pk=result.id).status == "RUNNING", "the job to start")
    victim.kill()  # SIGKILL mid-job: no handler runs, the row stays RUNNING
    assert DBTaskResult.objects.get(pk=result.id).status == "RUNNING"
    start_worker("rescuer")
    wait_for(lambda: DBTaskResult.objects.get(pk=result.id).status == "SUCCESSFUL", "the job to be retried")
    job = DBTaskResult.objects.get(pk=result.id)
    assert job.worker_ids == ["victim", "rescuer"]
    assert [n for n, _ in _runs(probe_table)] == [7]


def test_a_job_whose_worker_died_too_often_fails_with_a_japanese_message(start_worker, probe_table):
    result = record_run.enqueue(8, 8)
    victim = start_worker("victim", JOB_MAX_ATTEMPTS="1")
    wait_for(lambda: DBTaskResult.objects.get(pk=result.id).status == "RUNNING", "the job to start")
    victim.kill()
    start_worker("survivor", JOB_MAX_ATTEMPTS="1")
    wait_for(lambda: DBTaskResult.objects.get(pk=result.id).status == "FAILED", "the job to be failed")
    job = DBTaskResult.objects.get(pk=result.id)
    assert job.traceback == jobs.WORKER_LOST_MESSAGE
    assert _runs(probe_table) == []


@pytest.mark.django_db
def test_a_busy_worker_keeps_its_job(settings):
    settings.JOB_WORKER_STALE_SECONDS = 60
    result = record_run.enqueue(1)
    now = timezone.now()
    WorkerHeartbeat.objects.create(worker_id="busy", hostname="h", pid=1, started_at=now, beat_at=now)
    DBTaskResult.objects.filter(pk=result.id).update(
        status="RUNNING", started_at=now - timedelta(minutes=10), worker_ids=["busy"]
    )
    assert jobs.recover_abandoned() == (0, 0)
    assert DBTaskResult.objects.get(pk=result.id).status == "RUNNING"


@pytest.mark.django_db
def test_an_abandoned_import_is_failed_on_its_job_screen(settings, personas, places_media):
    from places.models import PlaceImportJob
    from places.tasks import run_import_job

    settings.JOB_MAX_ATTEMPTS = 1
    job = PlaceImportJob.objects.create(created_by=personas.administrator, file_name="big.csv", file_format="csv")
    result = run_import_job.enqueue(str(job.pk))
    DBTaskResult.objects.filter(pk=result.id).update(
        status="RUNNING", started_at=timezone.now() - timedelta(minutes=10), worker_ids=["gone"]
    )
    assert jobs.recover_abandoned() == (0, 1)
    job.refresh_from_db()
    assert job.status == PlaceImportJob.Status.FAILED
    assert "何も反映していません" in job.message
