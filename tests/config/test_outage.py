"""Outages of PostgreSQL or Redis get a Japanese 503 page or a clean WebSocket close, never a crash page."""

import pytest
from django.db import OperationalError
from django.test import RequestFactory
from redis.exceptions import ConnectionError as RedisConnectionError

from casework.audit import AccessLogUnavailable
from config.outage import CLOSE_TRY_AGAIN_LATER, WebsocketOutageGuard, is_database_outage
from config.views import server_error
from tests.meetings.conftest import run_async


def _handle(exc: Exception):
    request = RequestFactory().get("/cases/1/")
    try:
        raise exc
    except Exception:
        return server_error(request)


def test_an_unreachable_database_gets_the_503_page_without_details():
    response = _handle(OperationalError("connection to server at 127.0.0.1 failed: SELECT secret"))
    body = response.content.decode()
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert "ただいま混み合っているか、システムに接続できません" in body
    assert "SELECT" not in body and "127.0.0.1" not in body


def test_an_error_raised_from_a_database_outage_counts_as_one():
    try:
        try:
            raise OperationalError("server closed the connection unexpectedly")
        except OperationalError as cause:
            raise AccessLogUnavailable("could not write") from cause
    except AccessLogUnavailable as exc:
        assert is_database_outage(exc)
    assert not is_database_outage(ValueError("bug"))


def test_any_other_error_gets_the_500_page():
    response = _handle(ValueError("a bug"))
    assert response.status_code == 500
    assert "システムエラーが発生しました" in response.content.decode()


def _run_guard(app):
    sent = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "websocket.connect"}

    async def guarded():
        await WebsocketOutageGuard(app)({"type": "websocket", "path": "/ws/meetings/1/"}, receive, send)

    run_async(guarded)
    return sent


def test_a_socket_is_closed_with_try_again_later_when_redis_or_postgresql_is_down():
    for error in (RedisConnectionError("Connection closed by server."), OperationalError("no database")):

        async def app(scope, receive, send, error=error):
            await send({"type": "websocket.accept"})
            raise error

        assert _run_guard(app) == [
            {"type": "websocket.accept"},
            {"type": "websocket.close", "code": CLOSE_TRY_AGAIN_LATER},
        ]


def test_the_guard_lets_other_errors_through():
    async def app(scope, receive, send):
        raise ValueError("a bug")

    with pytest.raises(ValueError):
        _run_guard(app)
