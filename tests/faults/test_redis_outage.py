"""Redis stopped: sign-in, pages and saving still work; when it returns, every live client converges."""

import asyncio
import json
import random
import time

import pytest
import websockets
from playwright.sync_api import expect

from tests.factories import PASSWORD
from tests.faults.conftest import OUTCOMES
from tests.meetings.conftest import run_async

pytestmark = [pytest.mark.faults]


class LiveClient:
    """A live-agenda client that behaves like static/js/meeting.js: reconnect with backoff, resync on hello."""

    def __init__(self, server, meeting_id: int, cookie_name: str, cookie: str):
        self.uri = f"ws://127.0.0.1:{server.port}/ws/meetings/{meeting_id}/"
        self.origin = server.url
        self.headers = {"Cookie": f"{cookie_name}={cookie}"}
        self.version: int | None = None
        self.connected = asyncio.Event()
        self.connects = 0
        self.drops: list[str] = []
        self.stopped = False

    async def run(self) -> None:
        backoff = 0.5
        while not self.stopped:
            try:
                async with websockets.connect(
                    self.uri, origin=self.origin, additional_headers=self.headers, open_timeout=10
                ) as socket:
                    async for raw in socket:
                        message = json.loads(raw)
                        if message["type"] == "hello":
                            # The page re-fetches the agenda after every (re)connect: it is at the DB's version.
                            self.connects += 1
                            backoff = 0.5
                            self.connected.set()
                        if "version" in message and message.get("what") != "presence":
                            self.version = message["version"]
                        if self.stopped:
                            return
            except websockets.exceptions.InvalidStatus as exc:
                self.drops.append(f"refused {exc.response.status_code}")
            except websockets.exceptions.ConnectionClosed as exc:
                self.drops.append(f"closed {exc.rcvd.code if exc.rcvd else 'abruptly'}")
            except OSError as exc:
                self.drops.append(type(exc).__name__)
            else:
                self.drops.append("closed")
            self.connected.clear()
            await asyncio.sleep(backoff + random.random() * 0.2)
            backoff = min(backoff * 2, 2)


def _item_version(stack) -> int:
    return stack.query("SELECT version FROM meetings_agendaitem WHERE id = %s", (stack.seed["item"],))[0][0]


def _meeting_version(stack) -> int:
    return stack.query("SELECT version FROM meetings_meeting WHERE id = %s", (stack.seed["meeting"],))[0][0]


def test_with_redis_stopped_work_goes_on_and_every_client_converges_when_it_returns(stack, servers, visitor, redis_up):
    seed = stack.seed
    server_a, server_b = servers
    meeting_path = f"/meetings/{seed['meeting']}/"
    notes_path = f"/meetings/{seed['meeting']}/items/{seed['item']}/notes/"

    async def scenario():
        clients = [
            LiveClient(server, seed["meeting"], seed["cookie_name"], seed["caseworker"]["cookie"])
            for server in (server_a, server_b)
        ]
        tasks = [asyncio.create_task(client.run()) for client in clients]
        try:
            for client in clients:
                await asyncio.wait_for(client.connected.wait(), 30)
            await asyncio.to_thread(stack.redis.stop)
            # Work goes on over HTTP: a fresh sign-in, the meeting page and a saved note, all without Redis.
            signin = visitor(server_a)
            signin.get("/login/")
            login = await asyncio.to_thread(
                signin.post, "/login/", {"username": seed["chair"]["username"], "password": PASSWORD}
            )
            page = await asyncio.to_thread(signin.get, meeting_path)
            saved = await asyncio.to_thread(
                signin.post,
                notes_path,
                {"notes": "Redis停止中に保存した記録", "based_on_version": _item_version(stack)},
            )
            await asyncio.sleep(1)
            during = [client.connected.is_set() for client in clients]
            await asyncio.to_thread(stack.redis.start)
            outage_over = time.monotonic()
            target = _meeting_version(stack)
            deadline = outage_over + 60
            while time.monotonic() < deadline and any(client.version != target for client in clients):
                await asyncio.sleep(0.2)
            converged_after = time.monotonic() - outage_over
            return clients, login, page, saved, during, target, converged_after
        finally:
            for client in clients:
                client.stopped = True
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    clients, login, page, saved, during, target, converged_after = run_async(scenario)
    assert login.status == 302 and login.headers["Location"] == "/", login.body[:300]
    assert page.status == 200
    assert saved.status == 302, saved.body[:500]
    notes = stack.query("SELECT notes FROM meetings_agendaitem WHERE id = %s", (seed["item"],))[0][0]
    assert notes == "Redis停止中に保存した記録"
    # Both sockets were closed with "try again later" (not a crash) and refused while Redis was away.
    assert during == [False, False]
    for client in clients:
        assert client.drops[0] == "closed 4503", client.drops
        assert set(client.drops) <= {"closed 4503", "refused 403"}, client.drops
        assert client.connects >= 2
    assert [client.version for client in clients] == [target, target]
    OUTCOMES.append(
        f"Redis outage: sign-in, page and note saved without Redis; 2 clients on 2 processes converged "
        f"at version {target} {converged_after:.1f} s after Redis returned "
        f"(drops: {', '.join(sorted({d for c in clients for d in c.drops}))})"
    )


@pytest.mark.browser
def test_the_page_says_live_updates_are_paused_and_catches_up_when_redis_returns(
    stack, servers, visitor, redis_up, browser
):
    seed = stack.seed
    server_a, server_b = servers
    context = browser.new_context(base_url=server_b.url, locale="ja-JP")
    context.add_cookies([{"name": seed["cookie_name"], "value": seed["caseworker"]["cookie"], "url": server_b.url}])
    try:
        page = context.new_page()
        page.goto(f"/meetings/{seed['meeting']}/")
        status = page.locator("#live-status")
        expect(status).to_have_text("ライブ更新: 接続中", timeout=15000)

        stack.redis.stop()
        expect(status).to_have_text("ライブ更新: 一時停止中（再接続しています）", timeout=15000)
        note = "ブラウザが一時停止中に保存された記録"
        chair = visitor(server_a, "chair")
        saved = chair.post(
            f"/meetings/{seed['meeting']}/items/{seed['item']}/notes/",
            {"notes": note, "based_on_version": _item_version(stack)},
        )
        assert saved.status == 302

        stack.redis.start()
        expect(status).to_have_text("ライブ更新: 接続中", timeout=60000)
        expect(page.locator("#live")).to_contain_text(note, timeout=15000)
        expect(page.locator("#live")).to_have_attribute("data-version", str(_meeting_version(stack)))
    finally:
        context.close()
    OUTCOMES.append("Redis outage in a real browser: the page said 「ライブ更新: 一時停止中」 and caught up after")
