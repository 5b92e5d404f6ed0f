"""Writes of the indicators app: refreshing the stored aggregates, now (a job) or on request (queued)."""

from __future__ import annotations

from django.db import transaction

from indicators.aggregates import aggregates_refresh
from indicators.models import AggregateRun

__all__ = ["aggregates_refresh", "aggregates_refresh_request", "daily_refresh"]


def aggregates_refresh_request(*, by) -> AggregateRun:
    """Queue a refresh (one at a time: a refresh already waiting is returned instead of a second one)."""
    from indicators.tasks import refresh_aggregates_job

    with transaction.atomic(durable=True):
        waiting = AggregateRun.objects.select_for_update().filter(finished_at__isnull=True, ok=False).first()
        if waiting is not None:
            return waiting
        run = AggregateRun.objects.create(requested_by=by)
        # The database queue: the job is committed with the run that asks for it.
        refresh_aggregates_job.enqueue(run.pk)
    return run


def daily_refresh(day) -> str:
    """The daily job: recount every figure (idempotent: the stored counts are replaced, not added)."""
    return aggregates_refresh().outcome
