"""Jobs of the indicators app (django-tasks): fetch inputs, call the service, nothing else."""

from __future__ import annotations

from django.utils import timezone
from django_tasks import task

from indicators.aggregates import aggregates_refresh
from indicators.models import AggregateRun


@task()
def refresh_aggregates_job(run_id: int) -> str:
    """Recount the stored yearly figures for a refresh someone asked for on the dashboard."""
    run = AggregateRun.objects.filter(pk=run_id, finished_at__isnull=True).first()
    if run is None:  # already done (a retried job)
        return "done"
    try:
        return aggregates_refresh(run=run).outcome
    except Exception as error:
        # A failed run must not stay "waiting": the next request queues a new one.
        AggregateRun.objects.filter(pk=run_id).update(
            finished_at=timezone.now(), ok=False, outcome=f"失敗: {type(error).__name__}"[:300]
        )
        raise
