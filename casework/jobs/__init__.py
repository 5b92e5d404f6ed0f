"""The job queue's own rules: worker heartbeats and the recovery of jobs whose worker died.

Jobs are django-tasks tasks (`<app>/tasks.py`) on the database backend (django-tasks-db): enqueued inside
the transaction of the change that causes them, run by `manage.py run_worker` processes that share the
queue through row locks (SKIP LOCKED on PostgreSQL). A worker writes its heartbeat from its own loop (no
thread): on each poll of the queue and between jobs, at most every JOB_HEARTBEAT_SECONDS (`Pulse`). A job
that runs longer than JOB_WORKER_STALE_SECONDS calls `still_working()` now and then (the places import does,
from its progress callback), which beats on a connection of its own so the beat is seen while the job's
transaction is open. A RUNNING job whose worker's heartbeat is older than JOB_WORKER_STALE_SECONDS was abandoned (the process
was killed, the machine lost): the surviving workers put it back in the queue, or after JOB_MAX_ATTEMPTS
mark it failed with a Japanese message and tell its app (ABANDONED_HANDLERS), so nothing stays "running".
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, close_old_connections, connection, connections, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

# The message a job failed by recovery carries (its traceback field; apps show their own wording).
WORKER_LOST_MESSAGE = "ジョブを実行していたワーカーが応答しなくなったため、この処理は中断されました。"
WORKER_LOST_CLASS = "casework.jobs.WorkerLost"

# task path ("places.tasks.run_import_job") -> handler(args, kwargs), called when recovery gives up on a job.
# Upper apps register from their AppConfig.ready, so casework never imports them.
ABANDONED_HANDLERS: dict[str, Callable[[list, dict], None]] = {}


class WorkerLost(Exception):
    """A job's worker stopped answering while the job ran."""


def register_abandoned_handler(task_path: str, handler: Callable[[list, dict], None]) -> None:
    ABANDONED_HANDLERS[task_path] = handler


def stale_after() -> timedelta:
    return timedelta(seconds=settings.JOB_WORKER_STALE_SECONDS)


def beat(worker_id: str, *, started_at=None) -> None:
    """Record that this worker is alive (creating its row on the first beat)."""
    from casework.models import WorkerHeartbeat

    now = timezone.now()
    updated = WorkerHeartbeat.objects.filter(worker_id=worker_id).update(beat_at=now, stopped_at=None)
    if not updated:
        WorkerHeartbeat.objects.update_or_create(
            worker_id=worker_id,
            defaults={
                "hostname": socket.gethostname()[:255],
                "pid": os.getpid(),
                "started_at": started_at or now,
                "beat_at": now,
                "stopped_at": None,
            },
        )


def stopped(worker_id: str) -> None:
    """A worker that shuts down cleanly says so (its heartbeat is then not 'stale', just over)."""
    from casework.models import WorkerHeartbeat

    WorkerHeartbeat.objects.filter(worker_id=worker_id).update(stopped_at=timezone.now())


class Pulse:
    """A worker's heartbeat, written from the worker's own loop: no thread, no timer.

    `tick()` runs on each poll of the queue and after each job: it beats, and recovers the jobs of workers that
    stopped beating, when JOB_HEARTBEAT_SECONDS have passed since the last beat. `during_job()` (reached through
    `still_working()`) beats while a long job runs, on a side connection (PostgreSQL) so the beat commits even
    though the job's own transaction is open; SQLite allows one writer, so there it does nothing (the demo
    runs one worker, and nobody else would recover its jobs).
    """

    def __init__(self, worker_id: str):
        self.worker_id = worker_id
        self.last_beat = float("-inf")
        self.side = None

    def due(self) -> bool:
        return time.monotonic() - self.last_beat >= settings.JOB_HEARTBEAT_SECONDS

    def tick(self, *, force: bool = False) -> None:
        if not (force or self.due()):
            return
        try:
            beat(self.worker_id)
            self.last_beat = time.monotonic()
            recover_abandoned(exclude_worker=self.worker_id)
        except Exception:  # a missed beat is retried on the next poll; the worker goes on
            logger.warning("heartbeat failed", exc_info=True)
            close_old_connections()

    def during_job(self) -> None:
        if not self.due() or connection.vendor != "postgresql":
            return
        from casework.models import WorkerHeartbeat

        try:
            if self.side is None:
                self.side = connections.create_connection(DEFAULT_DB_ALIAS)
            table = connection.ops.quote_name(WorkerHeartbeat._meta.db_table)
            with self.side.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} SET beat_at = %s WHERE worker_id = %s",  # noqa: S608 - our own table name
                    [timezone.now(), self.worker_id],
                )
            self.last_beat = time.monotonic()
        except Exception:
            logger.warning("heartbeat during a job failed", exc_info=True)
            self.close_side()

    def close_side(self) -> None:
        if self.side is not None:
            try:
                self.side.close()
            finally:
                self.side = None

    def stop(self) -> None:
        self.close_side()
        try:
            stopped(self.worker_id)
        except Exception:
            logger.warning("could not record the worker's stop", exc_info=True)


# The pulse of the worker running in this process (one worker per process: `manage.py run_worker`).
_current_pulse: Pulse | None = None


def set_current_pulse(pulse: Pulse | None) -> None:
    global _current_pulse  # noqa: PLW0603 - one worker per process
    _current_pulse = pulse


def still_working() -> None:
    """Tell the other workers that this process's job is still running (cheap: beats at most once per interval).

    Long jobs call it from their loops; outside a worker (a test, a management command) it does nothing.
    """
    if _current_pulse is not None:
        _current_pulse.during_job()


def latest_heartbeat_age() -> timedelta | None:
    """How long ago the freshest running worker answered (None: no worker has ever run)."""
    from casework.models import WorkerHeartbeat

    latest = (
        WorkerHeartbeat.objects.filter(stopped_at__isnull=True).order_by("-beat_at").values_list("beat_at", flat=True)
    ).first()
    return None if latest is None else timezone.now() - latest


def worker_heartbeat_ages(*, within: timedelta = timedelta(days=1), limit: int = 20) -> list[float]:
    """Seconds since each worker that has not said it stopped last beat (those within `within`), freshest first."""
    from casework.models import WorkerHeartbeat

    now = timezone.now()
    beats = (
        WorkerHeartbeat.objects.filter(stopped_at__isnull=True, beat_at__gte=now - within)
        .order_by("-beat_at")
        .values_list("beat_at", flat=True)[:limit]
    )
    return [max(0.0, (now - beat_at).total_seconds()) for beat_at in beats]


def recover_abandoned(*, exclude_worker: str | None = None) -> tuple[int, int]:
    """Requeue or fail every RUNNING job whose worker stopped answering; return (retried, failed).

    Safe to run from any number of workers at once: each job row is locked (SKIP LOCKED) while it is
    decided, and the decision is re-checked under the lock.
    """
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult, get_date_max

    from casework.models import WorkerHeartbeat

    threshold = timezone.now() - stale_after()
    alive = set(
        WorkerHeartbeat.objects.filter(beat_at__gte=threshold, stopped_at__isnull=True).values_list(
            "worker_id", flat=True
        )
    )
    if exclude_worker:
        alive.add(exclude_worker)
    retried = failed = 0
    candidates = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING, started_at__lt=threshold)
    for job_id in candidates.values_list("id", flat=True):
        with transaction.atomic():
            job = DBTaskResult.objects.select_for_update(skip_locked=True).filter(pk=job_id).first()
            if job is None or job.status != TaskResultStatus.RUNNING or not job.worker_ids:
                continue
            if job.worker_ids[-1] in alive:
                continue
            if len(job.worker_ids) < settings.JOB_MAX_ATTEMPTS:
                job.status = TaskResultStatus.READY
                job.run_after = get_date_max()
                job.save(update_fields=["status", "run_after"])
                retried += 1
                logger.warning("job %s (%s): worker %s lost, queued again", job.pk, job.task_path, job.worker_ids[-1])
            else:
                job.status = TaskResultStatus.FAILED
                job.finished_at = timezone.now()
                job.exception_class_path = WORKER_LOST_CLASS
                job.traceback = WORKER_LOST_MESSAGE
                job.return_value = None
                job.save(update_fields=["status", "finished_at", "exception_class_path", "traceback", "return_value"])
                failed += 1
                logger.error("job %s (%s): worker lost %d times, failed", job.pk, job.task_path, len(job.worker_ids))
                handler = ABANDONED_HANDLERS.get(job.task_path)
                if handler is not None:
                    # The app's own record fails in the same transaction as the job.
                    handler(job.args_kwargs.get("args", []), job.args_kwargs.get("kwargs", {}))
    return retried, failed
