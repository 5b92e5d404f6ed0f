"""Run a job worker: django-tasks-db's db_worker with a heartbeat and the recovery of abandoned jobs.

    manage.py run_worker            # until SIGTERM/SIGINT (systemd: deploy/jusou-worker.service)
    manage.py run_worker --batch    # run what is queued, then exit

Any number of workers on any number of machines share the queue. Each one beats every
JOB_HEARTBEAT_SECONDS from a companion thread (its own database connection, stopped and joined when the
worker exits; never a daemon thread) and, on the same beat, puts back or fails the jobs of workers that
stopped beating (casework.jobs.recover_abandoned).
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import connection
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand
from django_tasks_db.management.commands.db_worker import Worker

from casework import jobs

logger = logging.getLogger("casework.jobs")


class Heartbeat:
    """Beat and recover on a timer in a companion thread until stopped."""

    def __init__(self, worker_id: str):
        self.worker_id = worker_id
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"heartbeat-{worker_id[:8]}")

    def _tick(self) -> None:
        try:
            jobs.beat(self.worker_id)
            jobs.recover_abandoned(exclude_worker=self.worker_id)
        except Exception:  # a missed beat is retried on the next tick; the worker goes on
            logger.warning("heartbeat failed", exc_info=True)

    def _run(self) -> None:
        try:
            while not self.stop_event.wait(settings.JOB_HEARTBEAT_SECONDS):
                self._tick()
        finally:
            connection.close()

    def start(self) -> None:
        # The first beat and recovery happen before the worker takes a job.
        self._tick()
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        if self.thread.is_alive():
            self.thread.join()
        try:
            jobs.stopped(self.worker_id)
        except Exception:
            logger.warning("could not record the worker's stop", exc_info=True)


class HeartbeatWorker(Worker):
    def run(self) -> None:
        heartbeat = Heartbeat(self.worker_id)
        heartbeat.start()
        try:
            super().run()
        finally:
            heartbeat.stop()


class Command(DbWorkerCommand):
    help = "ジョブワーカーを起動します（心拍と、停止したワーカーのジョブの回収つき）"

    def handle(self, *args, **options):
        import django_tasks_db.management.commands.db_worker as db_worker

        # db_worker builds its Worker by name; ours adds the heartbeat around the same loop.
        original = db_worker.Worker
        db_worker.Worker = HeartbeatWorker
        try:
            return super().handle(*args, **options)
        finally:
            db_worker.Worker = original
