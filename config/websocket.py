"""WebSocket gatekeeping shared by every socket route: the exact-origin check and the catch-all refusal."""

from __future__ import annotations

from urllib.parse import urlsplit

from channels.generic.websocket import AsyncWebsocketConsumer
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import is_same_domain, split_domain_port, validate_host

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _header(scope, name: bytes) -> str | None:
    """Return the one value of a header, or None when it is missing, repeated or not latin-1 text."""
    values = [value for key, value in scope.get("headers", []) if key.lower() == name]
    if len(values) != 1:
        return None
    try:
        return values[0].decode("latin1")
    except UnicodeDecodeError:
        return None


def _origin_tuple(text: str) -> tuple[str, str, int] | None:
    """Return (scheme, host, port) of an origin such as https://example.jp:8443, or None if it is not one."""
    try:
        parts = urlsplit(text.strip().lower())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname or parts.path not in ("", "/"):
        return None
    if parts.query or parts.fragment or parts.username or parts.password:
        return None
    return parts.scheme, parts.hostname, port if port is not None else _DEFAULT_PORTS[parts.scheme]


def _site_origin(scope) -> tuple[str, str, int] | None:
    """Return the origin the socket was opened on: this site's scheme and the Host header, if it is allowed."""
    host = _header(scope, b"host")
    if not host:
        return None
    domain, port = split_domain_port(host.lower())
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = [".localhost", "127.0.0.1", "[::1]"]
    if not domain or not validate_host(domain, allowed_hosts):
        return None
    scheme = "https" if settings.HTTPS or scope.get("scheme") == "wss" else "http"
    if port and not port.isdigit():
        return None
    return scheme, domain.strip("[]"), int(port) if port else _DEFAULT_PORTS[scheme]


def origin_allowed(scope) -> bool:
    """Say whether the socket's Origin is exactly this site or a trusted origin (scheme, host and port)."""
    origin_text = _header(scope, b"origin")
    origin = _origin_tuple(origin_text) if origin_text else None
    if origin is None:
        return False
    if origin == _site_origin(scope):
        return True
    for trusted in settings.CSRF_TRUSTED_ORIGINS:
        scheme, wildcard, rest = trusted.lower().partition("://*.")
        if wildcard:
            # https://*.example.jp: same scheme and port, the domain or any subdomain (as Django's CSRF check).
            pattern = _origin_tuple(f"{scheme}://{rest}")
            if (
                pattern
                and (pattern[0], pattern[2]) == (origin[0], origin[2])
                and is_same_domain(origin[1], "." + pattern[1])
            ):
                return True
        elif _origin_tuple(trusted) == origin:
            return True
    return False


class ExactOriginValidator:
    """Refuse a socket at the handshake unless its Origin is exactly this site's (another port is another site).

    channels' AllowedHostsOriginValidator compares only the host name, so a page served on another port
    of the same host (another application, a developer's server) could open the live agenda.
    """

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            raise ValueError("ExactOriginValidator guards WebSocket connections only")
        if origin_allowed(scope):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)


class RefuseConsumer(AsyncWebsocketConsumer):
    """Refuse at the handshake a socket whose path matches no route (instead of a 500)."""

    async def connect(self):
        await self.close()


# Close codes the application sends that autobahn's sendClose() refuses from an application (it allows
# 1000 and 3000-4999 only, so daphne answered "invalid close code 1009" with 1011 and a traceback).
# RFC 6455 (7.4.1) lets an endpoint send 1009 for a message too big to process.
PROTOCOL_CLOSE_CODES = {1009}


def let_daphne_close_with_1009() -> None:
    """Make daphne send the application's 1009 and fail an over-size frame with 1009 instead of dropping it.

    daphne builds its WebSocket protocol from WebSocketFactory.protocol; this puts a subclass there
    (once, in the process that imported config.asgi). Without daphne (uvicorn) it does nothing.
    """
    try:
        from daphne import ws_protocol
    except ImportError:
        return
    base = ws_protocol.WebSocketFactory.protocol
    if getattr(base, "closes_with_1009", False):
        return

    class WebSocketProtocol(base):
        closes_with_1009 = True

        def serverClose(self, code=None):  # noqa: N802 (daphne's name)
            if code in PROTOCOL_CLOSE_CODES:
                self.sendCloseFrame(code=code, isReply=False)
            else:
                super().serverClose(code=code)

        def _max_message_size_exceeded(self, msg_size, max_msg_size, reason):
            # autobahn's hook: over --websocket-max-message-size. Close with 1009 (a clean closing
            # handshake, so the application gets its disconnect) rather than drop the TCP connection.
            self.failByDrop = False
            self._fail_connection(self.CLOSE_STATUS_CODE_MESSAGE_TOO_BIG, "message too big")

    ws_protocol.WebSocketFactory.protocol = WebSocketProtocol
