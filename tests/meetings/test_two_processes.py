"""Two server processes sharing Redis: a change made through one reaches a client of the other."""

import asyncio
import json
import re
import urllib.request

import pytest
import websockets
import websockets.exceptions  # a submodule: the package does not load it by itself
from django.conf import settings

from meetings import services as ms
from tests.meetings.conftest import run_async, session_cookie

pytestmark = [pytest.mark.django_db(transaction=True)]


def _http(url: str, cookie: str, data: bytes | None = None, extra_cookie: str = "") -> tuple[int, str, dict]:
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    request.add_header("Cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}{extra_cookie}")
    if data:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    opener = urllib.request.build_opener(NoRedirect)
    with opener.open(request, timeout=10) as response:
        return response.status, response.read().decode(), response.headers


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _post_next(server, meeting_id: int, cookie: str) -> None:
    """Press 次の議題へ on process A through its real HTTP stack, CSRF included."""
    status, _body, headers = _http(f"{server.url}/meetings/{meeting_id}/", cookie)
    assert status == 200
    token = re.search(r"csrftoken=([^;]+)", headers.get("Set-Cookie", "")).group(1)
    try:
        _http(
            f"{server.url}/meetings/{meeting_id}/next/",
            cookie,
            data=f"csrfmiddlewaretoken={token}".encode(),
            extra_cookie=f"; csrftoken={token}",
        )
    except urllib.error.HTTPError as exc:
        assert exc.code == 302, exc.read()[:500]


async def _listen(server, meeting_id: int, cookie: str, ready: asyncio.Event, timeout: float = 15) -> list[dict]:
    headers = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"}
    uri = f"ws://127.0.0.1:{server.port}/ws/meetings/{meeting_id}/"
    received = []
    async with websockets.connect(uri, origin=server.url, additional_headers=headers) as socket:
        received.append(json.loads(await asyncio.wait_for(socket.recv(), timeout)))
        ready.set()
        while True:
            message = json.loads(await asyncio.wait_for(socket.recv(), timeout))
            received.append(message)
            if message["type"] == "meeting.changed" and message["what"] == "current":
                return received


def test_a_change_through_process_a_reaches_a_client_of_process_b(daphne_servers, personas, layered):
    server_a, server_b = daphne_servers
    listener_cookie = session_cookie(personas.caseworker_a)
    chair_cookie = session_cookie(personas.chair)

    async def scenario():
        ready = asyncio.Event()
        task = asyncio.create_task(_listen(server_b, layered.pk, listener_cookie, ready))
        await asyncio.wait_for(ready.wait(), 15)
        await asyncio.to_thread(_post_next, server_a, layered.pk, chair_cookie)
        return await task

    received = run_async(scenario)
    assert received[0] == {"type": "hello", "version": layered.version}
    layered.refresh_from_db()
    assert received[-1] == {"type": "meeting.changed", "version": layered.version, "what": "current"}
    assert layered.current_item == layered.items.get()


def test_a_foreign_origin_is_refused_by_a_real_server(daphne_servers, personas, layered):
    server = daphne_servers[0]
    cookie = session_cookie(personas.caseworker_a)

    async def attempt():
        async with websockets.connect(
            f"ws://127.0.0.1:{server.port}/ws/meetings/{layered.pk}/",
            origin="https://evil.example",
            additional_headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"},
        ) as socket:
            await socket.recv()

    with pytest.raises(websockets.exceptions.InvalidStatus):
        run_async(attempt)


def test_edits_still_save_when_the_channel_layer_is_down(personas, layered, settings):
    from channels.layers import channel_layers

    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]}}
    }
    channel_layers.backends.clear()
    try:
        item = layered.items.get()
        ms.agenda_item_note(item=item, notes="Redis停止中の記録", based_on_version=item.version, by=personas.chair)
    finally:
        channel_layers.backends.clear()
    item.refresh_from_db()
    assert item.notes == "Redis停止中の記録"
