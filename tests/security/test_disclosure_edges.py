"""Issue 15, rows 12, 14, 16 and 17: each attack reproduced through the HTTP client or a socket, now refused."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.urls import reverse

from config.asgi import application
from meetings.consumers import MAX_FRAME_BYTES
from meetings.models import MeetingPresence
from tests.factories import PlaceFactory
from tests.meetings.conftest import case_a, layered, run_async  # noqa: F401  (fixtures)
from tests.refusals import refused_page

ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------------------
# Row 16: HSDS publishes only the contact fields the operator marked public
# ---------------------------------------------------------------------------


def _place_post(place, **changes) -> dict:
    data = {
        "operator": place.operator_id,
        "name": place.name,
        "kind": place.kind,
        "area": place.area,
        "address": place.address,
        "target_groups": place.target_groups,
        "activities_text": "、".join(place.activities),
        "contact_phone": place.contact_phone,
        "contact_email": place.contact_email,
        "accepts_referrals": "on",
        "is_active": "on",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.django_db
def test_row_16_hsds_publishes_staff_contact_only_when_marked_public(personas, login):
    place = PlaceFactory(
        operator=personas.place_operator,
        name="まちの縁側",
        contact_phone="090-1111-2222",
        contact_email="staff.private@example.jp",
    )
    hsds = reverse("places:hsds")
    text = login(personas.caseworker_a).get(hsds).content.decode()
    assert "まちの縁側" in text
    # The default is internal: neither the staff member's phone nor their mailbox is published.
    assert "090-1111-2222" not in text and "staff.private@example.jp" not in text and '"phones"' not in text

    staff = login(personas.place_staff)
    form = staff.get(reverse("places:edit", args=[place.pk])).content.decode()
    assert "電話番号を公開する" in form and "メールアドレスを公開する" in form
    response = staff.post(reverse("places:edit", args=[place.pk]), _place_post(place, contact_phone_public="on"))
    assert response.status_code == 302, response.content.decode()[:2000]
    place.refresh_from_db()
    assert place.contact_phone_public and not place.contact_email_public

    document = login(personas.caseworker_a).get(hsds).json()
    (service,) = document["services"]
    assert [p["number"] for p in service["phones"]] == ["090-1111-2222"]
    assert "email" not in service and "staff.private@example.jp" not in json.dumps(document)
    # Staff still see both on the place's page, each marked public or internal.
    page = staff.get(place.get_absolute_url()).content.decode()
    assert "staff.private@example.jp" in page and "内部のみ" in page and "公開" in page


# ---------------------------------------------------------------------------
# Row 17: WebSocket edges
# ---------------------------------------------------------------------------


@pytest.fixture
def _in_memory_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


def _db(func, *args, **kwargs):
    from channels.db import database_sync_to_async

    return database_sync_to_async(func)(*args, **kwargs)


def _socket(path: str, user=None, *, host: bytes = b"127.0.0.1", origin: bytes | None = b"http://127.0.0.1"):
    from tests.conftest import sign_in

    headers = [(b"host", host)]
    if origin is not None:
        headers.append((b"origin", origin))
    if user is not None:
        client = sign_in(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    return WebsocketCommunicator(application, path, headers=headers)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_in_memory_layer")
def test_row_17_an_oversize_frame_closes_with_1009_and_removes_the_presence_row(personas, layered):  # noqa: F811
    async def scenario():
        comm = await _db(_socket, f"/ws/meetings/{layered.pk}/", personas.caseworker_a)
        connected, _ = await comm.connect()
        assert connected
        assert json.loads(await comm.receive_from())["type"] == "hello"
        assert await _db(lambda: MeetingPresence.objects.filter(user=personas.caseworker_a).count()) == 1
        await comm.send_to(text_data=json.dumps({"type": "ping", "pad": "x" * (MAX_FRAME_BYTES + 10)}))
        output = await comm.receive_output(timeout=5)
        while output["type"] == "websocket.send":
            output = await comm.receive_output(timeout=5)
        assert output == {"type": "websocket.close", "code": 1009}
        # Gone with the close itself, not only once the server reports the disconnect.
        assert await _db(lambda: MeetingPresence.objects.count()) == 0
        await comm.disconnect()
        assert await _db(lambda: MeetingPresence.objects.count()) == 0

    run_async(scenario)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_in_memory_layer")
def test_row_17_only_the_exact_origin_opens_the_socket(personas, layered, settings):  # noqa: F811
    path = f"/ws/meetings/{layered.pk}/"
    host = b"127.0.0.1:8000"

    async def attempt(origin: bytes, **kwargs) -> bool:
        comm = await _db(_socket, path, personas.caseworker_a, host=kwargs.get("host", host), origin=origin)
        connected, _ = await comm.connect()
        if connected:
            await comm.disconnect()
        return connected

    async def scenario():
        # Another port of the same host is another site (AllowedHostsOriginValidator let it in).
        assert not await attempt(b"http://127.0.0.1:9999")
        assert not await attempt(b"http://127.0.0.1")
        assert not await attempt(b"https://127.0.0.1:8000")
        assert not await attempt(b"http://localhost:8000")
        assert not await attempt(b"null")
        assert not await attempt(b"http://127.0.0.1:8000/path")
        # A Host header outside ALLOWED_HOSTS opens nothing, even with a matching Origin.
        assert not await attempt(b"http://evil.example:8000", host=b"evil.example:8000")
        assert await attempt(b"http://127.0.0.1:8000")
        assert await attempt(b"HTTP://127.0.0.1:8000")
        # Default ports written or left out are the same origin.
        assert await attempt(b"http://127.0.0.1:80", host=b"127.0.0.1")
        assert await attempt(b"http://127.0.0.1", host=b"127.0.0.1:80")

    run_async(scenario)
    # An origin the deployment trusts explicitly (CSRF_TRUSTED_ORIGINS) is matched exactly too.
    settings.CSRF_TRUSTED_ORIGINS = ["https://portal.example.jp", "https://*.city.example.jp"]

    async def trusted():
        assert await attempt(b"https://portal.example.jp")
        assert not await attempt(b"https://portal.example.jp:8443")
        assert not await attempt(b"http://portal.example.jp")
        assert await attempt(b"https://kurashi.city.example.jp")
        assert not await attempt(b"https://kurashi.city.example.jp:444")

    run_async(trusted)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_in_memory_layer")
@pytest.mark.parametrize(
    "path",
    [
        "/ws/meetings/abc/",
        "/ws/meetings/1x/",
        "/ws/meetings/-1/",
        "/ws/nowhere/",
        "/ws/meetings/99999999999999999999999/",
    ],
)
def test_row_17_a_path_no_route_serves_is_refused_at_the_handshake(personas, layered, path):  # noqa: F811
    async def scenario():
        comm = await _db(_socket, path, personas.caseworker_a)
        # Before the fix "/ws/meetings/abc/" raised in the router (a 500 at the handshake).
        connected, _ = await comm.connect()
        assert not connected

    run_async(scenario)


@pytest.fixture(params=["daphne limits the frame", "the consumer limits the frame"])
def one_daphne(request, django_db_setup, django_db_blocker):
    """One real daphne process on the test database, with `make demo`'s frame limits or without them."""
    import os
    from urllib.parse import urlsplit, urlunsplit

    from django.db import connection

    from tests.meetings.conftest import Daphne

    parts = urlsplit(os.environ["DATABASE_URL"])
    (ROOT / "var").mkdir(exist_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"])),
        "SECRET_KEY": settings.SECRET_KEY,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    server = Daphne(env, frame_limits=request.param == "daphne limits the frame")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def test_row_17_the_demo_and_the_test_servers_limit_frames_in_daphne_itself():
    # The application cannot close with 1009 through daphne (autobahn allows 1000 and 3000-4999 only:
    # "invalid close code 1009", then 1011 and a traceback), so daphne must refuse the frame itself.
    makefile = (ROOT / "Makefile").read_text()
    limits = re.search(r"^DAPHNE_LIMITS := (.*)$", makefile, re.MULTILINE).group(1)
    assert f"--websocket-max-message-size {MAX_FRAME_BYTES}" in limits
    assert f"--websocket-max-frame-size {MAX_FRAME_BYTES}" in limits
    assert "-m daphne $(DAPHNE_LIMITS)" in makefile


@pytest.mark.django_db(transaction=True)
def test_row_17_a_real_server_closes_an_oversize_frame_with_1009_without_a_traceback(one_daphne, personas, layered):  # noqa: F811
    import websockets

    from tests.meetings.conftest import session_cookie

    cookie = session_cookie(personas.caseworker_a)

    async def scenario():
        async with websockets.connect(
            f"ws://127.0.0.1:{one_daphne.port}/ws/meetings/{layered.pk}/",
            origin=one_daphne.url,
            additional_headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"},
        ) as socket:
            assert json.loads(await asyncio.wait_for(socket.recv(), 10))["type"] == "hello"
            await socket.send(json.dumps({"type": "ping", "pad": "x" * (MAX_FRAME_BYTES + 10)}))
            with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
                while True:
                    await asyncio.wait_for(socket.recv(), 10)
            return closed.value.rcvd.code if closed.value.rcvd else None

    assert run_async(scenario) == 1009
    # This socket's row: a browser test's late reconnect on the same worker's database may leave its own.
    presence = MeetingPresence.objects.filter(meeting=layered, user=personas.caseworker_a)
    deadline = time.monotonic() + 10
    while presence.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not presence.exists(), list(MeetingPresence.objects.values("meeting_id", "user_id", "channel_name"))

    async def other_port():
        async with websockets.connect(
            f"ws://127.0.0.1:{one_daphne.port}/ws/meetings/{layered.pk}/",
            origin=f"http://127.0.0.1:{one_daphne.port + 1}",
            additional_headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"},
        ):
            pass

    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        run_async(other_port)
    assert refused.value.response.status_code == 403

    async def bad_path():
        async with websockets.connect(
            f"ws://127.0.0.1:{one_daphne.port}/ws/meetings/abc/",
            origin=one_daphne.url,
            additional_headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"},
        ):
            pass

    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        run_async(bad_path)
    assert refused.value.response.status_code == 403
    one_daphne.log.flush()
    one_daphne.log.seek(0)
    log = one_daphne.log.read().decode(errors="replace")
    assert "Traceback" not in log and "invalid close code" not in log and "No route found" not in log


# ---------------------------------------------------------------------------
# Row 12: withheld words in the 参加支援 request text, the referrer's cancel reason and notes
# ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_row_12_withheld_words_are_refused_in_the_request_text_and_cancel_reason_a_place_reads(
    personas,
    case_a,  # noqa: F811
    place,
    login,
):
    from referrals.models import Referral, ReferralState
    from tests.factories import make_consent, make_referral

    worker, staff = login(personas.caseworker_a), login(personas.place_staff)
    person = case_a.subject_rows.first().person
    make_consent(person=person, organizations=[place.operator], purposes=["place_referral"], by=personas.caseworker_a)

    # 1. The request text of a new 参加支援 referral.
    response = worker.post(
        reverse("referrals:new", args=["participation"]) + f"?case={case_a.pk}",
        {
            "person": person.pk,
            "place": place.pk,
            "request_text": "統合失調症で服薬中のため、静かな席をお願いします",
            "card_preferred_name": "たろうさん",
            "card_accommodations": "大人数が苦手",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "居場所には診断名や制度・家計・家族の事情を伝えません" in page and "統合失調" in page
    assert not Referral.objects.exists()

    # 2. Editing a draft's request text, and a draft saved before the rule covered it, cannot be sent.
    referral = make_referral(
        kind="participation", case=case_a, by=personas.caseworker_a, sender=personas.window_a, place=place, send=False
    )
    response = worker.post(
        reverse("referrals:edit", args=[referral.pk]),
        {"request_text": "生活保護を受けています", "card_preferred_name": "たろうさん"},
    )
    assert response.status_code == 200 and "生活保護" in response.content.decode()
    referral.refresh_from_db()
    assert referral.request_text == "参加の受け入れをお願いします"
    Referral.objects.filter(pk=referral.pk).update(request_text="借金の返済に追われています")
    response = worker.post(reverse("referrals:send", args=[referral.pk]), {"version": referral.version})
    assert "借金" in refused_page(worker, response, reverse("referrals:detail", args=[referral.pk]))
    referral.refresh_from_db()
    assert referral.state == ReferralState.DRAFT
    assert not staff.get(reverse("referrals:detail", args=[referral.pk])).status_code == 200

    # 3. The referrer's cancel reason, which the place reads on its card's timeline.
    sent = make_referral(
        kind="participation", case=case_a, by=personas.caseworker_a, sender=personas.window_a, place=place
    )
    response = worker.post(
        reverse("referrals:move", args=[sent.pk, "cancel"]),
        {"version": sent.version, "reason": "統合失調症が悪化し入院"},
    )
    page = refused_page(worker, response, reverse("referrals:detail", args=[sent.pk]))
    assert "居場所には診断名や制度・家計・家族の事情を伝えません" in page
    sent.refresh_from_db()
    assert sent.state == ReferralState.REQUESTED and not sent.transitions.filter(to_state="cancelled").exists()
    assert "統合失調症" not in staff.get(reverse("referrals:detail", args=[sent.pk])).content.decode()

    # 4. The referrer's note to the place.
    response = worker.post(reverse("referrals:note", args=[sent.pk]), {"text": "うつ病の通院日は休みます"})
    assert "うつ" in refused_page(worker, response, reverse("referrals:detail", args=[sent.pk]))
    assert not sent.notes.exists()

    # A reason without the details goes through.
    response = worker.post(
        reverse("referrals:move", args=[sent.pk, "cancel"]), {"version": sent.version, "reason": "本人の都合により"}
    )
    assert response.status_code == 302
    sent.refresh_from_db()
    assert sent.state == ReferralState.CANCELLED
    assert "本人の都合により" in staff.get(reverse("referrals:detail", args=[sent.pk])).content.decode()


# ---------------------------------------------------------------------------
# Row 14: the place attendance screen logs whom it shows; an expired card can no longer be recorded
# ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_row_14_attendance_page_logs_its_persons_and_refuses_an_expired_card(personas, case_a, place, login):  # noqa: F811
    import datetime

    from django.utils import timezone

    from casework.models import AccessLog
    from places.models import Attendance
    from referrals import services as rs
    from referrals.models import Referral
    from tests.factories import make_referral

    referral = make_referral(
        kind="participation",
        case=case_a,
        by=personas.caseworker_a,
        sender=personas.window_a,
        place=place,
        card_preferred_name="はなこさん",
    )
    referral = rs.referral_move(move="accept", referral=referral, by=personas.place_staff)
    rs.referral_attendance_record(
        referral=referral,
        on=timezone.localdate(),
        status="attended",
        by=personas.place_staff,
    )
    staff = login(personas.place_staff)
    url = reverse("places:attendance", args=[place.pk])

    def last_row():
        return AccessLog.objects.filter(object_type="places.attendance", object_id=str(place.pk)).latest("id")

    page = staff.get(url).content.decode()
    assert "はなこさん" in page
    # The page names the referral's person: the log row says which person (it said person_ids=[]).
    assert last_row().person_ids == [referral.person_id]

    # The referrer ends the referral; the place keeps the card for its access period, then loses it.
    referral = rs.referral_move(move="cancel", referral=referral, by=personas.caseworker_a, reason="本人の都合により")
    ended = staff.post(url, {"participant_ref": referral.participant_ref, "on": "2025-06-01", "status": "attended"})
    assert ended.status_code == 200 and "受諾後・対応中の紹介にだけ出欠を記録できます" in ended.content.decode()
    Referral.objects.filter(pk=referral.pk).update(place_access_until=timezone.now() - datetime.timedelta(minutes=1))

    before = list(Attendance.objects.values_list("id", "on", "status", "participant_label", "note"))
    response = staff.post(
        url,
        {
            "participant_ref": referral.participant_ref,
            "on": timezone.localdate().isoformat(),
            "status": "attended",
            "note": "来ました",
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "閲覧期限" in body and "出欠は記録できません" in body
    assert list(Attendance.objects.values_list("id", "on", "status", "participant_label", "note")) == before
    # The label of the expired card's person is gone from the page (the row stays, unnamed), and the
    # log row names no person.
    page = staff.get(url).content.decode()
    assert "はなこさん" not in page and "閲覧期限切れの参加者" in page
    assert last_row().person_ids == []
    # The service refuses it too, whoever calls it.
    from django.core.exceptions import ValidationError

    from places.services import attendance_record

    with pytest.raises(ValidationError):
        attendance_record(
            place=place,
            participant_ref=referral.participant_ref,
            participant_label="はなこさん",
            on=timezone.localdate(),
            status="attended",
            hours=None,
            note="",
            by=personas.place_staff,
        )
    assert list(Attendance.objects.values_list("id", "on", "status", "participant_label", "note")) == before
