"""Telling an outage of PostgreSQL or Redis apart from a bug, and closing WebSockets cleanly during one."""

import logging

from django.db import InterfaceError, OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

# Errors that mean "the database is unreachable" rather than "the code is wrong".
DATABASE_OUTAGE_ERRORS = (OperationalError, InterfaceError)
# Errors of the channel layer when Redis is unreachable (channels-redis speaks through redis-py).
CHANNEL_LAYER_OUTAGE_ERRORS = (RedisConnectionError, RedisTimeoutError, ConnectionError)
# "Try again later" in the application range (daphne sends only 1000 and 3000-4999); the live
# agenda's client shows live updates as paused and reconnects with backoff, as for any drop.
CLOSE_TRY_AGAIN_LATER = 4503


def is_database_outage(exc: BaseException | None, errors: tuple = DATABASE_OUTAGE_ERRORS) -> bool:
    """Whether the exception, or one it was raised from, says the database cannot be reached."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, errors):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def is_live_outage(exc: BaseException | None) -> bool:
    """Whether a WebSocket failed because PostgreSQL or Redis (the channel layer) cannot be reached."""
    return is_database_outage(exc, DATABASE_OUTAGE_ERRORS + CHANNEL_LAYER_OUTAGE_ERRORS)


class WebsocketOutageGuard:
    """Close a WebSocket with 4503 instead of crashing the application when PostgreSQL or Redis is unreachable.

    Before the handshake is accepted the close becomes a plain refusal (HTTP 403), so the client
    sees no server error page; afterwards the client gets a close frame it reconnects from.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        closed = False

        async def tracking_send(message):
            nonlocal closed
            if message.get("type") == "websocket.close":
                closed = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if not is_live_outage(exc):
                raise
            # One line, not a traceback: the page shows "live updates paused" and reconnects with backoff.
            logger.warning("WebSocket %s closed, a backing service is unreachable: %s", scope.get("path"), exc)
            if not closed:
                await send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN_LATER})
