"""Tasks the job-queue tests enqueue: each run writes one row to a table the test made."""

import os
import time

from django.db import connection
from django_tasks import task

TABLE = "jobs_probe_runs"


@task()
def record_run(n: int, seconds: float = 0.0) -> None:
    if seconds:
        time.sleep(seconds)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {TABLE} (n, pid) VALUES (%s, %s)", [n, os.getpid()])  # noqa: S608


@task()
def record_run_beating(n: int, seconds: float) -> None:
    """A long job that tells the queue it is still working, as long jobs must."""
    from casework import jobs

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.2)
        jobs.still_working()
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {TABLE} (n, pid) VALUES (%s, %s)", [n, os.getpid()])  # noqa: S608
