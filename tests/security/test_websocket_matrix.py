"""The live agenda socket against the policy: participants connect; everyone else is refused at connect."""

from __future__ import annotations

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import override_settings

from config.asgi import application
from tests.conftest import sign_in
from tests.factories import give_layered_consent, make_meeting, make_meeting_case, put_on_agenda
from tests.meetings.conftest import run_async
from tests.security.support import record_count
from tests.urlwalk import websocket_routes

pytestmark = [pytest.mark.django_db(transaction=True)]

MEETING_ROUTE = "ws/meetings/<int:meeting_id>/"
NOTIFICATION_ROUTE = "ws/notifications/"
CONNECTS, REFUSED = "connects", "refused"


@pytest.fixture(autouse=True)
def _in_memory_layer(settings):
    # One process here: the in-memory layer keeps these tests independent of other runs on Redis.
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture
def meetings(personas):
    """A's 重層的支援会議 (chair, coordinator as secretary, caseworker A) and B's, of window B alone."""
    from tests.factories import MembershipFactory, UserFactory

    case_a = make_meeting_case(lead_organization=personas.window_a, lead_worker=personas.caseworker_a)
    give_layered_consent(case_a, by=personas.caseworker_a)
    meeting_a = make_meeting(chair=personas.chair, secretary=personas.coordinator, participants=[personas.caseworker_a])
    put_on_agenda(meeting=meeting_a, case=case_a, purpose="plan_agreement", by=personas.chair)
    chair_b = MembershipFactory(
        user=UserFactory(username="chair_b"), organization=personas.municipal, role="caseworker"
    ).user
    case_b = make_meeting_case(lead_organization=personas.window_b, lead_worker=personas.caseworker_b)
    give_layered_consent(case_b, by=personas.caseworker_b)
    meeting_b = make_meeting(chair=chair_b, participants=[personas.caseworker_b])
    return meeting_a, meeting_b


def _connect(path: str, client) -> tuple[bool, int | None]:
    headers = [(b"host", b"127.0.0.1"), (b"origin", b"http://127.0.0.1")]
    if client is not None and settings.SESSION_COOKIE_NAME in client.cookies:
        headers.append(
            (b"cookie", f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode())
        )

    async def scenario():
        communicator = WebsocketCommunicator(application, path, headers=headers)
        connected, code = await communicator.connect(timeout=5)
        if connected:
            await communicator.disconnect()
        return connected, code

    return run_async(scenario)


def test_the_websocket_policy_covers_every_websocket_route():
    assert sorted(websocket_routes()) == sorted([NOTIFICATION_ROUTE, MEETING_ROUTE]), (
        "a new WebSocket route needs its lines in this module"
    )


def test_every_signed_in_user_reaches_only_their_own_notification_socket(personas, request):
    """The お知らせ socket joins the signed-in user's own group; nobody names another user's."""
    p = personas
    policy = [
        ("caseworker A", p.caseworker_a, True, False, CONNECTS),
        ("place staff", p.place_staff, True, False, CONNECTS),
        ("auditor", p.auditor, True, False, CONNECTS),
        ("anonymous", None, True, False, REFUSED),
        ("deactivated user", p.deactivated, True, False, REFUSED),
        ("caseworker A, second factor pending", p.caseworker_a, False, True, REFUSED),
    ]
    failures = []
    for label, user, second_factor, for_all, expected in policy:
        with override_settings(SECOND_FACTOR_FOR_ALL=for_all):
            client = sign_in(user, second_factor=second_factor)
            connected, code = _connect("/ws/notifications/", client)
        outcome = CONNECTS if connected else REFUSED
        if outcome != expected:
            failures.append(f"{label}: expected {expected}, {outcome} (close code {code})")
    record_count(request.config, "permission matrix (WebSocket)", len(policy))
    assert not failures, "\n".join(failures)


def test_only_participants_connect_to_the_live_agenda(personas, meetings, request):
    meeting_a, meeting_b = meetings
    p = personas
    # (who, signed in how, which meeting, SECOND_FACTOR_FOR_ALL, expected)
    policy = [
        ("chair of A", p.chair, True, meeting_a, False, CONNECTS),
        ("secretary of A (coordinator)", p.coordinator, True, meeting_a, False, CONNECTS),
        ("participant of A (caseworker A)", p.caseworker_a, True, meeting_a, False, CONNECTS),
        ("anonymous", None, True, meeting_a, False, REFUSED),
        ("supervisor A, not a participant", p.supervisor_a, True, meeting_a, False, REFUSED),
        ("caseworker B (another organization)", p.caseworker_b, True, meeting_a, False, REFUSED),
        ("caseworker A on B's meeting id", p.caseworker_a, True, meeting_b, False, REFUSED),
        ("chair of A on B's meeting id", p.chair, True, meeting_b, False, REFUSED),
        ("place staff", p.place_staff, True, meeting_a, False, REFUSED),
        ("auditor", p.auditor, True, meeting_a, False, REFUSED),
        ("administrator", p.administrator, True, meeting_a, False, REFUSED),
        ("deactivated user", p.deactivated, True, meeting_a, False, REFUSED),
        ("participant A, second factor pending", p.caseworker_a, False, meeting_a, True, REFUSED),
        ("chair of A, second factor pending", p.chair, False, meeting_a, True, REFUSED),
        ("a meeting id that does not exist", p.caseworker_a, True, None, False, REFUSED),
    ]
    failures = []
    for label, user, second_factor, meeting, for_all, expected in policy:
        with override_settings(SECOND_FACTOR_FOR_ALL=for_all):
            client = sign_in(user, second_factor=second_factor)
            meeting_id = meeting.pk if meeting is not None else meeting_b.pk + 1000
            connected, code = _connect(f"/ws/meetings/{meeting_id}/", client)
        outcome = CONNECTS if connected else REFUSED
        if outcome != expected:
            failures.append(f"{label}: expected {expected}, {outcome} (close code {code})")
        elif not connected and code != 4403:
            # One close code for every refusal, a meeting that does not exist included: nothing is confirmed.
            failures.append(f"{label}: refused with close code {code}, expected 4403 like a missing meeting")
    record_count(request.config, "permission matrix (WebSocket)", len(policy))
    assert not failures, "\n".join(failures)
