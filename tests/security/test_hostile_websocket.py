"""Hostile frames on the live agenda socket: a clean error or a close, never a crash, nothing stored unescaped."""

import json

import pytest
from django.urls import reverse

from meetings.consumers import MAX_FRAME_BYTES
from tests.meetings.conftest import case_a, layered, run_async  # noqa: F401  (fixtures)
from tests.meetings.test_consumer import _in_memory_layer, communicator, db_call, receive  # noqa: F401
from tests.security.corpus import (
    CORPUS,
    DEEPLY_NESTED_JSON,
    DEEPLY_NESTED_OBJECT,
    JSON_LONE_SURROGATE,
    MARKUP_NEEDLES,
    NOT_JSON,
    TALLY,
    TEN_MB_FRAME,
    UNKNOWN_TYPES,
)

pytestmark = [pytest.mark.django_db(transaction=True)]


async def _open(client, meeting_id):
    comm = communicator(meeting_id, client)
    connected, _ = await comm.connect()
    assert connected
    assert (await receive(comm))["type"] == "hello"
    return comm


async def _next_reply(comm):
    """The next message that answers us (presence broadcasts skipped)."""
    for _ in range(10):
        message = await receive(comm)
        if message.get("what") != "presence":
            return message
    raise AssertionError("no reply")


async def _closed(comm) -> int:
    """Wait for the server's close and return its code."""
    output = await comm.receive_output(timeout=5)
    while output["type"] != "websocket.close":
        output = await comm.receive_output(timeout=5)
    return output["code"]


async def _still_alive(comm):
    await comm.send_to(text_data=json.dumps({"type": "ping"}))
    assert (await _next_reply(comm))["type"] == "pong"


def test_a_10_mb_frame_closes_the_socket_with_too_big(personas, layered, login, db_call):  # noqa: F811
    async def scenario():
        client = await db_call(login, personas.coordinator)
        comm = await _open(client, layered.pk)
        await comm.send_to(text_data=TEN_MB_FRAME)
        TALLY["hostile websocket frames"] += 1
        assert await _closed(comm) == 1009
        await comm.disconnect()

    run_async(scenario)
    item = layered.items.get()
    assert item.notes == ""


@pytest.mark.parametrize(
    "frame",
    [*NOT_JSON, DEEPLY_NESTED_JSON, DEEPLY_NESTED_OBJECT, *(json.dumps({"type": t}) for t in UNKNOWN_TYPES)],
    ids=lambda f: repr(f[:20]),
)
def test_garbage_frames_get_a_japanese_error_and_the_socket_stays_usable(personas, layered, login, db_call, frame):  # noqa: F811
    async def scenario():
        client = await db_call(login, personas.coordinator)
        comm = await _open(client, layered.pk)
        await comm.send_to(text_data=frame)
        TALLY["hostile websocket frames"] += 1
        reply = await _next_reply(comm)
        assert reply["type"] == "error" and reply["code"] in {"invalid_json", "unknown_type"}, reply
        assert any("\u3040" <= ch <= "\u9fff" for ch in reply["message"])
        await _still_alive(comm)
        await comm.disconnect()

    run_async(scenario)


def test_binary_frames_that_are_not_utf8_get_an_error(personas, layered, login, db_call):  # noqa: F811
    async def scenario():
        client = await db_call(login, personas.coordinator)
        comm = await _open(client, layered.pk)
        await comm.send_to(bytes_data=b"\xff\xfe\xed\xa0\x80")
        TALLY["hostile websocket frames"] += 1
        assert (await _next_reply(comm))["code"] == "invalid_json"
        await _still_alive(comm)
        await comm.disconnect()

    run_async(scenario)


def test_corpus_strings_in_edit_frames_are_refused_and_never_stored(
    personas,
    layered,  # noqa: F811
    login,
    db_call,  # noqa: F811
):
    """The socket takes no edits: a note frame carrying any corpus string is an unknown type, nothing stored."""
    item = layered.items.get()

    async def scenario():
        client = await db_call(login, personas.coordinator)
        comm = await _open(client, layered.pk)
        for hostile in [*CORPUS]:
            if hostile.label.startswith("lone_surrogate"):
                continue  # a str holding a lone surrogate cannot be sent as text; see the JSON escape below
            frame = json.dumps(
                {"type": "note", "item": item.pk, "notes": hostile.value, "based_on_version": item.version},
                ensure_ascii=False,
            )
            await comm.send_to(text_data=frame)
            TALLY["hostile websocket frames"] += 1
            if len(frame.encode()) > MAX_FRAME_BYTES:
                # Too big for one frame: the socket is closed cleanly.
                assert (await _closed(comm)) == 1009
                comm = await _open(client, layered.pk)
                continue
            reply = await _next_reply(comm)
            assert reply["type"] == "error" and reply["code"] == "unknown_type", (hostile.label, reply)
        # "\ud800" escaped in JSON decodes to a lone surrogate: refused too.
        await comm.send_to(text_data=JSON_LONE_SURROGATE.replace('"item": 1', f'"item": {item.pk}'))
        TALLY["hostile websocket frames"] += 1
        assert (await _next_reply(comm))["type"] == "error"
        await comm.disconnect()

    run_async(scenario)
    item.refresh_from_db()
    assert item.notes == ""
    # Store the markup last and look at every page that shows the notes.
    from meetings import services as ms

    item.refresh_from_db()
    ms.agenda_item_note(item=item, notes=MARKUP_NEEDLES[0], based_on_version=item.version, by=personas.coordinator)
    client = login(personas.coordinator)
    for url in [
        layered.get_absolute_url(),
        reverse("meetings:live", args=[layered.pk]),
        reverse("meetings:minutes", args=[layered.pk]),
        reverse("meetings:notes", args=[layered.pk, item.pk]),
    ]:
        body = client.get(url).content.decode()
        assert MARKUP_NEEDLES[0] not in body, url
        TALLY["pages checked for unescaped markup"] += 1
