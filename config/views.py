"""Project-level views: the home page composed from each app's panels, health and errors."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.module_loading import import_string
from django.views.decorators.http import require_GET

from casework.selectors import viewer_for

# Each app may offer panels for the home page; apps are asked in dependency order.
HOME_PANEL_PROVIDERS = [
    "casework.selectors.home_panels",
    "places.selectors.home_panels",
    "referrals.selectors.home_panels",
    "meetings.selectors.home_panels",
]


def _providers():
    for path in HOME_PANEL_PROVIDERS:
        try:
            yield import_string(path)
        except ImportError:
            continue


@require_GET
def home(request):
    """Show the signed-in user the home page for their roles."""
    viewer = viewer_for(request)
    panels = []
    for provider in _providers():
        panels.extend(provider(request, viewer))
    panels.sort(key=lambda panel: panel.order)
    return render(request, "home.html", {"panels": panels})


@login_not_required
@require_GET
def healthz(request):
    """Answer the reverse proxy's health check without touching personal data."""
    return HttpResponse("ok", content_type="text/plain")


def csrf_failure(request, reason=""):
    """Explain a failed CSRF check in Japanese instead of Django's English page."""
    return render(request, "403_csrf.html", status=403)
