"""The operator's screen (administrators): scheduled daily jobs, the job queue and the workers' heartbeats."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from casework import jobs
from casework.selectors import job_queue_counts, scheduled_jobs_overview
from casework.viewers import viewer_for


@require_GET
def scheduled_jobs(request):
    """Show each daily job's last run and result, the queue's counts and each worker's heartbeat age."""
    if not viewer_for(request).is_administrator:
        raise Http404
    today = timezone.localdate()
    return render(
        request,
        "casework/operations.html",
        {
            "today": today,
            "jobs": scheduled_jobs_overview(today),
            "queue": job_queue_counts(),
            "worker_ages": jobs.worker_heartbeat_ages(),
        },
    )
