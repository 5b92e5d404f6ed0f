"""Jobs of the casework app (django-tasks): fetch inputs, call the work, nothing else."""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction
from django_tasks import task

from casework import scheduling
from casework.notifications import digest


@task()
def run_daily_job(name: str, day: str) -> str:
    """Run one registered daily job for its day (casework.scheduling)."""
    return scheduling.run_daily_job_now(name, date.fromisoformat(day))


def enqueue_daily_jobs(day: date) -> list[str]:
    """Queue every registered job not yet queued for the day; return the names queued now."""
    from casework.models import ScheduledRun

    queued = []
    for name in sorted(scheduling.DAILY_JOBS):
        try:
            with transaction.atomic():
                run, created = ScheduledRun.objects.get_or_create(name=name, day=day)
                if not created:
                    continue
                result = run_daily_job.enqueue(name, day.isoformat())
                run.task_id = str(result.id)
                run.save(update_fields=["task_id"])
        except IntegrityError:  # another run_scheduled queued it at the same moment
            continue
        queued.append(name)
    return queued


# Below the default priority: the day's notice jobs, queued at the same time, run first and are counted.
@task(priority=-10)
def send_digest(delivery_id: int) -> str:
    """Send one user's daily digest mail (casework.notifications.digest); a failure is queued again there."""
    return digest.digest_send(delivery_id, resend=send_digest)


def queue_digests(day: date) -> str:
    """The daily job mail_digest: queue each opted-in user's digest of the day on send_digest."""
    return digest.queue_digests(day, send=send_digest)
