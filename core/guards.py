"""Guards on every response: the one fail-closed 503 page, and no-store for signed-in pages."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.template import loader
from django.utils.cache import add_never_cache_headers


class FailClosed(Exception):
    """A read refused because the record that it happened could not be written (the access log)."""


def unavailable_response(*, fail_closed: bool = False) -> HttpResponse:
    """Return the one Japanese 503 page, rendered without the request (its database may be down)."""
    response = HttpResponse(loader.get_template("503.html").render({"fail_closed": fail_closed}), status=503)
    response["Retry-After"] = "10"
    return response


class FailClosedMiddleware:
    """Turn a FailClosed raised anywhere under a view into the 503 page, so no view catches it itself."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, FailClosed):
            return unavailable_response(fail_closed=True)
        return None


class NoStoreMiddleware:
    """Tell browsers and proxies never to keep a signed-in user's pages and exports (personal data).

    Static files are served before this middleware (WhiteNoise) and stay cacheable; pages for
    anonymous visitors (the sign-in page) keep their own headers.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith(settings.STATIC_URL):
            # max-age=0, no-cache, no-store, must-revalidate, private
            add_never_cache_headers(response)
        return response
