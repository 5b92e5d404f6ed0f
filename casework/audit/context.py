"""Per-request context for the access log, and the client IP behind trusted proxies."""

import contextvars
import ipaddress
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.http import HttpRequest


@dataclass(frozen=True)
class RequestContext:
    """What the access log needs to know about the request in progress."""

    request_id: str
    ip: str | None
    path: str
    # The access log reuses the request's cached memberships (selectors.viewer_for) to describe the actor.
    request: HttpRequest | None = field(default=None, compare=False, repr=False)


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "casework_request_context", default=None
)


def current_request_context() -> RequestContext | None:
    """Return the context of the request being served, if any."""
    return _current.get()


def client_ip(request: HttpRequest) -> str | None:
    """Return the client's IP, trusting exactly TRUSTED_PROXY_COUNT proxies in X-Forwarded-For."""
    remote = request.META.get("REMOTE_ADDR") or None
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        # Each trusted proxy appends the address it saw; the client is `count` from the right.
        if len(hops) >= count:
            remote = hops[-count]
    try:
        return str(ipaddress.ip_address(remote)) if remote else None
    except ValueError:
        return None


# Paths whose last segment is a secret (the calendar feed's URL): the access log keeps the prefix only.
SECRET_PATH_PREFIXES = ("/calendar/feed/",)


def loggable_path(path: str) -> str:
    """Return the path for the access log, with a secret URL's secret cut off."""
    for prefix in SECRET_PATH_PREFIXES:
        if path.startswith(prefix):
            return prefix + "…"
    return path[:300]


class RequestContextMiddleware:
    """Give every request an id and remember its IP and path for the access log."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        # Always the server's own id: a client-chosen X-Request-Id would end up in hashed log rows.
        request.request_id = str(uuid.uuid4())
        token = _current.set(
            RequestContext(
                request_id=request.request_id, ip=client_ip(request), path=loggable_path(request.path), request=request
            )
        )
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response["X-Request-Id"] = request.request_id
        return response
