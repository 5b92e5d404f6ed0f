"""Project-level views: the home page composed from each app's panels, health and errors."""

import logging
import sys

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.views.decorators.http import require_GET

from casework import audit
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


@login_not_required
@require_GET
def healthz(request):
    """Answer the reverse proxy's health check without touching personal data."""
    return HttpResponse("ok", content_type="text/plain")


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
