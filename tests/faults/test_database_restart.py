"""PostgreSQL restarted under a running server: a clean Japanese 503 during the outage, recovery without a restart."""

import asyncio
import threading
import time

import pytest
import websockets

from tests.faults.conftest import OUTCOMES, assert_clean_error_page
from tests.meetings.conftest import run_async

pytestmark = [pytest.mark.faults]

OUTAGE_TEXT = "ただいま混み合っているか、システムに接続できません"


def _until_ok(client, path: str, deadline_s: float = 60) -> tuple[float, int]:
    """Poll the page until it answers 200; return the seconds it took and how many requests were refused."""
    started = time.monotonic()
    refused = 0
    while time.monotonic() - started < deadline_s:
        response = client.get(path)
        if response.status == 200:
            return time.monotonic() - started, refused
        refused += 1
        time.sleep(0.2)
    raise AssertionError(f"{path} did not recover within {deadline_s} s")


async def _websocket_during_outage(server, meeting_id: int, cookie_name: str, cookie: str) -> str:
    """Try the live agenda socket; return how it ended (refused handshake or close code)."""
    uri = f"ws://127.0.0.1:{server.port}/ws/meetings/{meeting_id}/"
    headers = {"Cookie": f"{cookie_name}={cookie}"}
    try:
        async with websockets.connect(uri, origin=server.url, additional_headers=headers, open_timeout=30) as socket:
            message = await asyncio.wait_for(socket.recv(), 30)
            return f"message {message}"
    except websockets.exceptions.InvalidStatus as exc:
        return f"refused {exc.response.status_code}"
    except websockets.exceptions.ConnectionClosed as exc:
        return f"closed {exc.rcvd.code if exc.rcvd else 'without frame'}"


def test_requests_during_a_database_restart_get_a_clean_503_and_the_server_recovers(stack, servers, visitor):
    server = servers[0]
    seed = stack.seed
    client = visitor(server, "caseworker")
    case_path = f"/cases/{seed['case']}/"
    assert client.get(case_path).status == 200
    pid = server.process.pid

    # A client keeps asking for the case while PostgreSQL restarts (pg_ctl restart -m fast).
    statuses: list[int] = []
    bodies: list[str] = []
    stop = threading.Event()

    def keep_asking():
        other = visitor(server, "caseworker")
        while not stop.is_set():
            response = other.get(case_path)
            statuses.append(response.status)
            if response.status != 200:
                bodies.append(response.body)

    asker = threading.Thread(target=keep_asking)
    asker.start()
    try:
        time.sleep(0.5)
        stack.postgres.restart()
        time.sleep(0.5)
    finally:
        stop.set()
        asker.join(60)
    assert set(statuses) <= {200, 503}, statuses
    for body in bodies:
        assert OUTAGE_TEXT in body
        assert_clean_error_page(body, secret_name=seed["secret_name"])
    restart_recovery, _ = _until_ok(client, case_path)

    # A longer outage: every page gets the 503 page and the live agenda socket is refused cleanly.
    stack.postgres.stop()
    try:
        response = client.get(case_path)
        home = client.get("/")
        socket_outcome = run_async(
            _websocket_during_outage, server, seed["meeting"], seed["cookie_name"], seed["caseworker"]["cookie"]
        )
    finally:
        stack.postgres.start()
    assert response.status == 503
    assert response.headers.get("Retry-After") == "10"
    assert OUTAGE_TEXT in response.body
    assert_clean_error_page(response.body, secret_name=seed["secret_name"])
    assert home.status == 503
    assert OUTAGE_TEXT in home.body
    # Refused at the handshake (the guard's close before accept), not a server error.
    assert socket_outcome == "refused 403", socket_outcome

    # The same process serves again once PostgreSQL is back: the pool reconnects by itself.
    recovery, refused = _until_ok(client, case_path)
    assert server.process.poll() is None and server.process.pid == pid
    assert seed["secret_name"] in client.get(case_path).body
    OUTCOMES.append(
        f"PostgreSQL restart: {len(statuses)} requests during `pg_ctl restart -m fast` "
        f"({statuses.count(503)} got the 503 page), recovered after {restart_recovery:.1f} s; "
        f"after a stop/start outage recovered in {recovery:.1f} s ({refused} refused); "
        f"WebSocket during the outage: {socket_outcome}"
    )
