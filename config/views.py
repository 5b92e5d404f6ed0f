"""Project-level views: the home page composed from each app's panels, health and errors."""

import logging
import sys

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.views.decorators.http import require_GET

from casework import audit, jobs
from casework.viewers import viewer_for
from config.outage import is_database_outage
from core.guards import unavailable_response
from core.panels import home_panels

logger = logging.getLogger(__name__)


@require_GET
def home(request):
    """Show the signed-in user the home page for their roles.

    Each panel logs what it shows; the rows are written together, before anything is rendered.
    """
    with audit.log_batch():
        panels = home_panels(request, viewer_for(request))
    return render(request, "home.html", {"panels": panels})


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except DatabaseError:
        logger.warning("health check: database unreachable", exc_info=True)
        return False


def _redis_state() -> str:
    if not settings.REDIS_URL:
        return "not_configured"
    import redis

    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
        try:
            client.ping()
        finally:
            client.close()
        return "ok"
    except redis.RedisError:
        logger.warning("health check: redis unreachable", exc_info=True)
        return "unreachable"


@login_not_required
@require_GET
def healthz(request):
    """Answer the reverse proxy's health check: database, Redis and the job workers' heartbeat ages.

    No personal data, no login, no access-log row. 503 only when the database is unreachable (the web
    process cannot serve anything); Redis down or no worker beating within HEALTH_WORKER_MAX_AGE_SECONDS
    answers 200 with "status": "degraded" and the reasons in "degraded", so a proxy keeps the web process
    in rotation while monitoring sees what is wrong.
    """
    limit = settings.HEALTH_WORKER_MAX_AGE_SECONDS
    body: dict = {"status": "ok", "degraded": [], "worker_heartbeat_limit_seconds": limit}
    if not _database_ok():
        body.update(status="down", database="unreachable", degraded=["database"])
        response = JsonResponse(body, status=503)
    else:
        body["database"] = "ok"
        body["redis"] = _redis_state()
        if body["redis"] == "unreachable":
            body["degraded"].append("redis")
        ages = jobs.worker_heartbeat_ages()
        body["workers"] = [{"heartbeat_age_seconds": round(age, 1)} for age in ages]
        body["worker_heartbeat_age_seconds"] = round(ages[0], 1) if ages else None
        if not ages or ages[0] > limit:
            body["degraded"].append("worker")
        if body["degraded"]:
            body["status"] = "degraded"
        response = JsonResponse(body)
    response["Cache-Control"] = "no-store"
    return response


def csrf_failure(request, reason=""):
    """Explain a failed CSRF check in Japanese instead of Django's English page."""
    return render(request, "403_csrf.html", status=403)


def server_error(request):
    """Answer an unhandled error: a 503 when the database is unreachable, else the 500 page.

    Both pages are rendered without the request, so no context processor touches the
    database that may be the very thing that is down.
    """
    if is_database_outage(sys.exc_info()[1]):
        logger.warning("database unreachable while serving %s", request.path)
        return unavailable_response()
    return HttpResponseServerError(loader.get_template("500.html").render())
