"""Run a job worker: django-tasks-db's db_worker with a heartbeat and the recovery of abandoned jobs.

    manage.py run_worker            # until SIGTERM/SIGINT (systemd: deploy/jusou-worker@.service)
    manage.py run_worker --batch    # run what is queued, then exit

Any number of workers on any number of machines share the queue. Each one writes its heartbeat from its own
loop, with no thread: on every poll of the queue and after every job, at most every JOB_HEARTBEAT_SECONDS,
and on the same beat puts back or fails the jobs of workers that stopped beating
(casework.jobs.recover_abandoned). A long job keeps beating through `casework.jobs.still_working()`.
"""

from __future__ import annotations

import random
import time

from django.db import close_old_connections
from django.db.utils import OperationalError
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand
from django_tasks_db.management.commands.db_worker import Worker, logger
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from casework import jobs


class HeartbeatWorker(Worker):
    """db_worker's loop (django-tasks-db 0.13.0's `Worker.run`) with the heartbeat written on each poll."""

    def run(self) -> None:
        pulse = jobs.Pulse(self.worker_id)
        jobs.set_current_pulse(pulse)
        # The first beat and recovery happen before the worker takes a job.
        pulse.tick(force=True)
        try:
            self._loop(pulse)
        finally:
            jobs.set_current_pulse(None)
            pulse.stop()

    def _claim(self):
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        if self.excluded_queue_names:
            tasks = tasks.exclude(queue_name__in=self.excluded_queue_names)
        with exclusive_transaction(tasks.db):
            try:
                task_result = tasks.get_locked()
                if task_result is not None:
                    task_result.claim(self.worker_id)  # so no other worker runs it
                return task_result, True
            except OperationalError as error:
                if is_locked_database_exception(error):  # SQLite busy: try again on the next poll
                    return None, False
                raise

    def _loop(self, pulse: jobs.Pulse) -> None:
        logger.info("Starting worker worker_id=%s queues=%s", self.worker_id, ",".join(self.queue_names))
        if self.startup_delay and self.interval:
            time.sleep(random.random())  # noqa: S311 - spreads the workers' first polls
        while self.running:
            close_old_connections()
            pulse.tick()
            task_result, retrieved = self._claim()
            if task_result is not None:
                self.run_task(task_result)
                pulse.tick()
            if self.batch and retrieved and task_result is None:
                return
            if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                return
            close_old_connections()
            if self.running and task_result is None:
                time.sleep(self.interval)


class Command(DbWorkerCommand):
    help = "ジョブワーカーを起動します（心拍と、停止したワーカーのジョブの回収つき）"

    def handle(self, *args, **options):
        import django_tasks_db.management.commands.db_worker as db_worker

        # db_worker builds its Worker by name; ours is the same loop with the heartbeat written in it.
        original = db_worker.Worker
        db_worker.Worker = HeartbeatWorker
        try:
            return super().handle(*args, **options)
        finally:
            db_worker.Worker = original
