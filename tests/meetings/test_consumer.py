"""The live agenda socket: who may connect, what it accepts, and removal closing a connection."""

import json

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from casework.models import AccessLog
from config.asgi import application
from meetings import services as ms
from meetings.models import MeetingPresence
from tests.factories import put_on_agenda
from tests.meetings.conftest import run_async

pytestmark = [pytest.mark.django_db(transaction=True)]

ORIGIN = b"http://127.0.0.1"


@pytest.fixture(autouse=True)
def _in_memory_layer(settings):
    # One process here: the in-memory layer keeps these tests independent of other runs on Redis.
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


def _cookie(client: Client) -> bytes:
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


def communicator(meeting_id, client=None, *, origin=ORIGIN):
    headers = [(b"host", b"127.0.0.1")]
    if origin is not None:
        headers.append((b"origin", origin))
    if client is not None:
        headers.append((b"cookie", _cookie(client)))
    return WebsocketCommunicator(application, f"/ws/meetings/{meeting_id}/", headers=headers)


async def receive(comm, timeout=3):
    return json.loads(await comm.receive_from(timeout=timeout))


async def comm_ping(comm):
    await comm.send_to(text_data=json.dumps({"type": "ping"}))


async def receive_type(comm, wanted, timeout=3):
    """Skip presence events until a message of the wanted type arrives."""
    for _ in range(10):
        message = await receive(comm, timeout)
        if message["type"] == wanted and message.get("what") != "presence":
            return message
    raise AssertionError(f"no {wanted} message")


@pytest.fixture
def db_call():
    from channels.db import database_sync_to_async

    return lambda func, *a, **kw: database_sync_to_async(func)(*a, **kw)


def test_a_participant_connects_is_logged_and_shown_as_present(personas, layered, login, db_call):
    async def scenario():
        client = await db_call(login, personas.caseworker_a)
        comm = communicator(layered.pk, client)
        connected, _ = await comm.connect()
        assert connected
        hello = await receive(comm)
        assert hello == {"type": "hello", "version": layered.version}
        assert await db_call(lambda: MeetingPresence.objects.filter(user=personas.caseworker_a).count()) == 1
        row = await db_call(lambda: AccessLog.objects.filter(action="meeting_subscribe").latest("id"))
        assert row.actor_id == personas.caseworker_a.pk and row.object_id == str(layered.pk)
        await comm.disconnect()
        assert await db_call(lambda: MeetingPresence.objects.count()) == 0

    run_async(scenario)


def test_a_non_participant_is_refused(personas, layered, login, db_call):
    async def scenario():
        comm = communicator(layered.pk, await db_call(login, personas.caseworker_b))
        connected, code = await comm.connect()
        assert not connected

    run_async(scenario)


def test_an_anonymous_visitor_is_refused(personas, layered):
    async def scenario():
        comm = communicator(layered.pk)
        connected, _ = await comm.connect()
        assert not connected

    run_async(scenario)


def test_a_foreign_origin_is_refused(personas, layered, login, db_call):
    async def scenario():
        comm = communicator(layered.pk, await db_call(login, personas.caseworker_a), origin=b"https://evil.example")
        connected, _ = await comm.connect()
        assert not connected

    run_async(scenario)


def test_a_missing_origin_is_refused(personas, layered, login, db_call):
    async def scenario():
        comm = communicator(layered.pk, await db_call(login, personas.caseworker_a), origin=None)
        connected, _ = await comm.connect()
        assert not connected

    run_async(scenario)


def test_an_unpledged_support_meeting_participant_is_refused(personas, login, db_call):
    async def scenario():
        from tests.factories import make_meeting

        meeting = await db_call(
            make_meeting,
            chair=personas.chair,
            kind="support_meeting",
            participants=[personas.caseworker_a],
            pledged=False,
        )
        comm = communicator(meeting.pk, await db_call(login, personas.caseworker_a))
        connected, _ = await comm.connect()
        assert not connected

    run_async(scenario)


def test_an_auditor_without_a_second_factor_is_refused(personas, layered, login, db_call):
    async def scenario():
        await db_call(ms.meeting_participant_add, meeting=layered, user=personas.supervisor_a, by=personas.chair)
        from casework.choices import Role
        from casework.models import Membership

        await db_call(
            Membership.objects.create, user=personas.supervisor_a, organization=personas.municipal, role=Role.AUDITOR
        )
        client = await db_call(login, personas.supervisor_a, second_factor=False)
        comm = communicator(layered.pk, client)
        connected, _ = await comm.connect()
        assert not connected
        verified = await db_call(login, personas.supervisor_a)
        comm = communicator(layered.pk, verified)
        connected, _ = await comm.connect()
        assert connected
        await comm.disconnect()

    run_async(scenario)


def test_bad_frames_are_answered_or_closed_cleanly(personas, layered, login, db_call):
    async def scenario():
        comm = communicator(layered.pk, await db_call(login, personas.caseworker_a))
        await comm.connect()
        await receive(comm)
        await comm.send_to(text_data="not json {")
        assert (await receive_type(comm, "error"))["code"] == "invalid_json"
        await comm.send_to(text_data=json.dumps({"type": "drop_tables"}))
        assert (await receive_type(comm, "error"))["code"] == "unknown_type"
        await comm.send_to(text_data=json.dumps(["ping"]))
        assert (await receive_type(comm, "error"))["code"] == "unknown_type"
        await comm.send_to(text_data=json.dumps({"type": "ping"}))
        assert (await receive_type(comm, "pong"))["version"] == layered.version
        await comm.send_to(text_data=json.dumps({"type": "ping", "pad": "x" * (70 * 1024)}))
        output = await comm.receive_output(timeout=3)
        while output["type"] == "websocket.send":
            output = await comm.receive_output(timeout=3)
        assert output == {"type": "websocket.close", "code": 1009}

    run_async(scenario)


def test_the_socket_takes_no_edits_not_even_from_the_chair(personas, layered, login, db_call):
    """Edits go through HTTP forms and services only: the old note/set_current frames are unknown types."""

    async def scenario():
        comm = communicator(layered.pk, await db_call(login, personas.chair))
        await comm.connect()
        await receive(comm)
        item = await db_call(lambda: layered.items.get())
        for frame in (
            {"type": "set_current", "item": item.pk},
            {"type": "note", "item": item.pk, "notes": "ソケットからの記録", "based_on_version": item.version},
        ):
            await comm.send_to(text_data=json.dumps(frame))
            assert (await receive_type(comm, "error"))["code"] == "unknown_type"
        await comm.disconnect()

    run_async(scenario)
    layered.refresh_from_db()
    item = layered.items.get()
    assert layered.current_item_id is None and item.notes == ""


def test_a_change_reaches_every_connected_participant_after_commit(personas, layered, login, db_call):
    async def scenario():
        other = communicator(layered.pk, await db_call(login, personas.caseworker_a))
        await other.connect()
        await receive(other)
        item = await db_call(lambda: layered.items.get())
        await db_call(ms.agenda_set_current, meeting=layered, item=item, by=personas.chair)
        event = await receive_type(other, "meeting.changed")
        assert event == {"type": "meeting.changed", "version": layered.version + 1, "what": "current"}
        await other.disconnect()

    run_async(scenario)


def test_removing_a_participant_closes_their_connection(personas, layered, login, db_call):
    async def scenario():
        comm = communicator(layered.pk, await db_call(login, personas.caseworker_a))
        await comm.connect()
        await receive(comm)
        participant = await db_call(lambda: layered.participants.get(user=personas.caseworker_a))
        await db_call(ms.meeting_participant_remove, participant=participant, by=personas.chair)
        output = await comm.receive_output(timeout=3)
        while output["type"] == "websocket.send":
            output = await comm.receive_output(timeout=3)
        assert output == {"type": "websocket.close", "code": 4403}

    run_async(scenario)


def test_a_deactivated_user_is_closed_on_their_next_message(personas, layered, login, db_call):
    async def scenario():
        comm = communicator(layered.pk, await db_call(login, personas.caseworker_a))
        await comm.connect()
        await receive(comm)
        personas.caseworker_a.is_active = False
        await db_call(personas.caseworker_a.save)
        await comm.send_to(text_data=json.dumps({"type": "ping"}))
        output = await comm.receive_output(timeout=3)
        while output["type"] == "websocket.send":
            output = await comm.receive_output(timeout=3)
        assert output == {"type": "websocket.close", "code": 4403}

    run_async(scenario)


def test_ending_a_users_sessions_closes_their_socket_at_once(personas, layered, login, db_call):
    from casework.accounts.sessions import user_end_sessions

    async def scenario():
        comm = communicator(layered.pk, await db_call(login, personas.caseworker_a))
        await comm.connect()
        await receive(comm)
        await db_call(user_end_sessions, user=personas.caseworker_a)
        output = await comm.receive_output(timeout=3)
        while output["type"] == "websocket.send":
            output = await comm.receive_output(timeout=3)
        assert output == {"type": "websocket.close", "code": 4403}

    run_async(scenario)


def test_ending_a_membership_closes_the_users_socket_at_once(personas, layered, login, db_call):
    from casework.models import AccessLog as Log
    from casework.services.memberships import membership_end

    async def scenario():
        comm = communicator(layered.pk, await db_call(login, personas.caseworker_a))
        await comm.connect()
        await receive(comm)
        membership = await db_call(lambda: personas.caseworker_a.memberships.get())
        await db_call(membership_end, membership=membership, by=personas.administrator)
        output = await comm.receive_output(timeout=3)
        while output["type"] == "websocket.send":
            output = await comm.receive_output(timeout=3)
        assert output == {"type": "websocket.close", "code": 4403}

    run_async(scenario)
    assert Log.objects.filter(action="membership_end", actor=personas.administrator).exists()


def test_a_participant_without_an_active_case_role_is_closed_on_their_next_message(personas, layered, login, db_call):
    """The session may outlive the basis (here the organization was deactivated): every message re-checks it."""

    async def scenario():
        comm = communicator(layered.pk, await db_call(login, personas.caseworker_a))
        await comm.connect()
        await receive(comm)
        organization = personas.window_a
        organization.is_active = False
        await db_call(organization.save)
        await comm_ping(comm)
        output = await comm.receive_output(timeout=3)
        while output["type"] == "websocket.send" and "pong" not in output.get("text", ""):
            output = await comm.receive_output(timeout=3)
        assert output == {"type": "websocket.close", "code": 4403}

    run_async(scenario)


def test_an_agenda_item_edit_reaches_connected_participants_after_commit(personas, layered, login, db_call):
    async def scenario():
        other = communicator(layered.pk, await db_call(login, personas.caseworker_a))
        await other.connect()
        await receive(other)
        item = await db_call(lambda: layered.items.get())
        await db_call(
            ms.agenda_item_edit,
            item=item,
            summary="会議用の概要（更新）",
            purpose="progress_review",
            based_on_version=item.version,
            by=personas.coordinator,
        )
        event = await receive_type(other, "meeting.changed")
        assert event == {"type": "meeting.changed", "version": layered.version + 1, "what": "agenda"}
        await other.disconnect()

    run_async(scenario)


def test_a_refused_edit_sends_nothing(personas, layered, login, db_call):
    async def scenario():
        other = communicator(layered.pk, await db_call(login, personas.caseworker_a))
        await other.connect()
        await receive(other)
        item = await db_call(lambda: layered.items.get())
        try:
            await db_call(
                ms.agenda_item_edit,
                item=item,
                summary="x",
                purpose="plan_agreement",
                based_on_version=99,
                by=personas.chair,
            )
        except ms.StaleEdit:
            pass
        else:
            raise AssertionError("a stale edit was saved")
        await comm_ping(other)
        assert (await receive_type(other, "pong"))["version"] == layered.version
        await other.disconnect()

    run_async(scenario)


def test_marking_an_action_done_and_removing_an_item_reach_connected_participants(personas, layered, login, db_call):
    async def scenario():
        from tests.factories import give_layered_consent, make_meeting_case

        # Window B takes part: the organization an action goes to follows it up.
        await db_call(ms.meeting_participant_add, meeting=layered, user=personas.caseworker_b, by=personas.chair)
        item = await db_call(lambda: layered.items.get())
        decision = await db_call(
            ms.meeting_decide,
            item=item,
            kind="action",
            text="家計相談の予約",
            actions=[{"organization": personas.window_b, "text": "家計相談の予約"}],
            by=personas.chair,
        )
        action = await db_call(lambda: decision.actions.get())
        case = await db_call(
            make_meeting_case, lead_organization=personas.window_a, lead_worker=personas.caseworker_a, family_name="森"
        )
        await db_call(give_layered_consent, case, by=personas.caseworker_a)
        extra = await db_call(put_on_agenda, meeting=layered, case=case, purpose="progress_review", by=personas.chair)
        version = await db_call(lambda: ms.Meeting.objects.get(pk=layered.pk).version)

        other = communicator(layered.pk, await db_call(login, personas.caseworker_a))
        await other.connect()
        await receive(other)
        await db_call(ms.action_item_mark_done, action=action, by=personas.caseworker_b, note="予約済み")
        event = await receive_type(other, "meeting.changed")
        assert event == {"type": "meeting.changed", "version": version + 1, "what": "actions"}
        await db_call(ms.agenda_item_remove, item=extra, by=personas.chair)
        event = await receive_type(other, "meeting.changed")
        assert event == {"type": "meeting.changed", "version": version + 2, "what": "agenda"}
        await other.disconnect()

    run_async(scenario)
