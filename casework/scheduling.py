"""Scheduled work: daily jobs keyed by date, enqueued by `manage.py run_scheduled` (systemd timer or cron).

Apps register their daily jobs from AppConfig.ready (casework never imports them): a job is a function
fn(day) -> str (a short outcome for the operator) that must be idempotent for its day: the notices it
writes carry a dedupe key, so a second run writes nothing new. `run_scheduled` enqueues each job once per
day (a ScheduledRun row, unique per name and day, committed with the queued task), so running it twice in
a day adds nothing; the job queue's workers run them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class DailyJob:
    name: str
    label: str
    run: Callable[[date], str]


DAILY_JOBS: dict[str, DailyJob] = {}


def register_daily_job(name: str, label: str, run: Callable[[date], str]) -> None:
    DAILY_JOBS[name] = DailyJob(name, label, run)


def run_daily_job_now(name: str, day: date) -> str:
    """Run one job for its day (on a worker) and record the outcome on its ScheduledRun row."""
    from django.utils import timezone

    from casework.models import ScheduledRun

    job = DAILY_JOBS[name]
    try:
        outcome = job.run(day)
    except Exception as error:
        ScheduledRun.objects.filter(name=name, day=day).update(
            finished_at=timezone.now(), ok=False, outcome=f"失敗: {type(error).__name__}"[:300]
        )
        raise
    ScheduledRun.objects.filter(name=name, day=day).update(finished_at=timezone.now(), ok=True, outcome=outcome[:300])
    return outcome
