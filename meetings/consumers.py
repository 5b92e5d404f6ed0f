"""The live agenda socket: participants only, checked at connect and on every message; events are tiny.

The socket only reads and pings: every edit goes through an HTTP form and a service (which sends the
event after commit, casework.live). Presence is written by the meetings services, not here.
"""

from __future__ import annotations

import json
import logging
from importlib import import_module

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from casework.accounts.second_factor import second_factor_satisfied
from casework.live import meeting_group, user_group
from casework.viewers import Viewer
from meetings.access import may_open_material, participant_for
from meetings.models import Meeting
from meetings.services import presence_join, presence_leave, presence_touch

logger = logging.getLogger(__name__)

MAX_FRAME_BYTES = 64 * 1024
# Incoming message types; anything else is answered with an error.
ALLOWED_TYPES = {"ping", "resync"}
# Close codes the client understands: 4403 not signed in or not (or no longer) a participant;
# 4503 (config.outage) PostgreSQL or Redis unreachable, so the client pauses and reconnects.
CLOSE_FORBIDDEN = 4403
CLOSE_TOO_BIG = 1009
# Largest primary key PostgreSQL's bigint holds: a longer number in the path is refused, never looked up.
MAX_ID = 2**63 - 1


def _verify_second_factor(scope, user) -> None:
    """Mark the user verified when the session carries their confirmed device, as OTPMiddleware does for HTTP."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.models import Device

    persistent_id = scope.get("session", {}).get(DEVICE_ID_SESSION_KEY)
    device = Device.from_persistent_id(persistent_id) if persistent_id else None
    verified = device is not None and device.user_id == user.pk and device.confirmed
    user.otp_device = device if verified else None
    user.is_verified = lambda: verified


class MeetingConsumer(AsyncWebsocketConsumer):
    """Send "meeting N is at version V" events to its participants and answer pings; it takes no edits."""

    async def connect(self):
        self.user = self.scope.get("user")
        self.meeting_id = str(self.scope["url_route"]["kwargs"]["meeting_id"])
        if not self.meeting_id.isdigit() or int(self.meeting_id) > MAX_ID:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.group = meeting_group(int(self.meeting_id))
        if not await self._check(connecting=True):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.channel_layer.group_add(self.group, self.channel_name)
        # Ending the user's sessions (deactivation, membership end, admin action) closes this socket too.
        self.user_group = user_group(self.user.pk)
        await self.channel_layer.group_add(self.user_group, self.channel_name)
        await self.accept()
        version = await database_sync_to_async(presence_join)(
            meeting=Meeting(pk=int(self.meeting_id)),
            participant=self.participant,
            channel_name=self.channel_name,
            by=self.user,
        )
        await self._send({"type": "hello", "version": version})

    async def disconnect(self, code):
        await self._leave()

    async def _leave(self) -> None:
        """Leave the groups and remove this socket's presence row (once; again on disconnect is a no-op)."""
        if getattr(self, "group", None):
            try:
                await self.channel_layer.group_discard(self.group, self.channel_name)
                if getattr(self, "user_group", None):
                    await self.channel_layer.group_discard(self.user_group, self.channel_name)
            except Exception:
                logger.warning("meeting %s: could not leave the group", self.meeting_id, exc_info=True)
        if not getattr(self, "meeting_id", "").isdigit() or int(self.meeting_id) > MAX_ID:
            return
        await database_sync_to_async(presence_leave)(meeting_id=int(self.meeting_id), channel_name=self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        raw = text_data if text_data is not None else bytes_data
        size = len(raw.encode() if isinstance(raw, str) else raw or b"")
        if size > MAX_FRAME_BYTES:
            # Normally the server refuses such a frame itself with 1009 (daphne --websocket-max-message-size,
            # see the Makefile and config.websocket); this guard covers a server started without the limit.
            # The presence row goes first, so it never outlives the socket whatever the server does next.
            await self._leave()
            await self.close(code=CLOSE_TOO_BIG)
            return
        # Participation (and the user's account) is checked again on every message.
        if not await self._check():
            await self.close(code=CLOSE_FORBIDDEN)
            return
        try:
            message = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError):
            # RecursionError: a frame of a few thousand nested brackets fits the size limit but not the parser.
            await self._error("invalid_json", "JSONとして読めないメッセージです。")
            return
        kind = message.get("type") if isinstance(message, dict) else None
        # A list or object as "type" is unhashable: compare only strings with the allow-list.
        if not isinstance(kind, str) or kind not in ALLOWED_TYPES:
            await self._error("unknown_type", "受け付けない種類のメッセージです。")
            return
        await getattr(self, f"handle_{kind}")(message)

    # -- incoming -------------------------------------------------------

    async def handle_ping(self, message):
        version = await database_sync_to_async(presence_touch)(
            meeting_id=int(self.meeting_id), channel_name=self.channel_name
        )
        await self._send({"type": "pong", "version": version})

    async def handle_resync(self, message):
        await self._send({"type": "meeting.changed", "version": await self._version(), "what": "resync"})

    # -- group events ---------------------------------------------------

    async def meeting_changed(self, event):
        await self._send({"type": "meeting.changed", "version": event["version"], "what": event.get("what", "")})

    async def meeting_participant_removed(self, event):
        if self.user is not None and event.get("user_id") == self.user.pk:
            await self._send({"type": "removed"})
            await self.close(code=CLOSE_FORBIDDEN)

    async def session_ended(self, event):
        await self._send({"type": "removed"})
        await self.close(code=CLOSE_FORBIDDEN)

    async def notifications_changed(self, event):
        # The user's お知らせ count changed: the badge has its own socket (casework.notifications).
        return

    # -- helpers --------------------------------------------------------

    async def _send(self, payload: dict) -> None:
        try:
            await self.send(text_data=json.dumps(payload, ensure_ascii=False))
        except RuntimeError:
            # The socket closed while an event was on its way (daphne: "Attempt to send on a closed protocol").
            # Leave now: raising here would end the consumer before the queued disconnect removes the presence row.
            await self._leave()

    async def _error(self, code: str, message: str) -> None:
        await self._send({"type": "error", "code": code, "message": message})

    @database_sync_to_async
    def _check(self, connecting: bool = False) -> bool:
        user = self.user
        if user is None or not user.is_authenticated:
            return False
        user.refresh_from_db(fields=["is_active"])
        if connecting:
            _verify_second_factor(self.scope, user)
        if not second_factor_satisfied(user):
            return False
        # The hat chosen in the header, read afresh from the session: switching applies to the socket too.
        session = self.scope.get("session")
        store = None
        if session is not None and session.session_key:
            store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session.session_key)
        self.participant = participant_for(user, self.meeting_id, viewer=Viewer(user, store))
        return may_open_material(self.participant)

    @database_sync_to_async
    def _version(self) -> int:
        return Meeting.objects.filter(pk=self.meeting_id).values_list("version", flat=True).first() or 0
