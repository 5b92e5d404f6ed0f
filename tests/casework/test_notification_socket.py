"""The badge's socket: a notification committed for the user reaches their open socket (no content)."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings

from casework import live
from config.asgi import application
from tests.meetings.conftest import run_async, session_cookie

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _in_memory_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


def _communicator(cookie: str | None):
    headers = [(b"host", b"127.0.0.1"), (b"origin", b"http://127.0.0.1")]
    if cookie:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    return WebsocketCommunicator(application, "/ws/notifications/", headers=headers)


def test_the_users_socket_hears_that_the_count_changed(personas):
    cookie = session_cookie(personas.caseworker_a)

    async def scenario():
        communicator = _communicator(cookie)
        connected, _ = await communicator.connect()
        assert connected
        await database_sync_to_async(live._send)(
            live.user_group(personas.caseworker_a.pk), {"type": live.NOTIFICATIONS_CHANGED}
        )
        message = await communicator.receive_from(timeout=5)
        # Another user's event does not reach this socket.
        await database_sync_to_async(live._send)(
            live.user_group(personas.caseworker_b.pk), {"type": live.NOTIFICATIONS_CHANGED}
        )
        assert await communicator.receive_nothing(timeout=0.3)
        await communicator.disconnect()
        return message

    assert run_async(scenario) == '{"type": "notifications.changed"}'


def test_an_anonymous_socket_is_refused(personas):
    async def scenario():
        connected, _ = await _communicator(None).connect()
        return connected

    assert run_async(scenario) is False
