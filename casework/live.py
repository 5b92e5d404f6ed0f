"""The one way to send a live event: `send_event_on_commit(group, event)`, with every event kind defined here.

Events are tiny ("meeting N is at version V"): a client re-fetches over HTTP, where access is checked and
logged. They leave only after the transaction commits, so nobody is told about a change that was rolled
back; a channel layer that is down never undoes a saved change (clients resync on ping or reconnect).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

MEETING_CHANGED = "meeting.changed"
MEETING_PARTICIPANT_REMOVED = "meeting.participant_removed"
SESSION_ENDED = "session.ended"
NOTIFICATIONS_CHANGED = "notifications.changed"

# Every event kind and its fields (name → type). A consumer handles kind "a.b" in its method a_b.
EVENT_KINDS: dict[str, dict[str, type]] = {
    # The meeting moved to `version`; `what` says which part changed (one of MEETING_CHANGES).
    MEETING_CHANGED: {"version": int, "what": str},
    # The user was removed from the meeting: their sockets on it close.
    MEETING_PARTICIPANT_REMOVED: {"user_id": int},
    # Every session of the user ended (deactivation, membership end): all their sockets close.
    SESSION_ENDED: {},
    # The user's unread お知らせ count changed: the badge re-fetches it over HTTP.
    NOTIFICATIONS_CHANGED: {},
}
MEETING_CHANGES = frozenset(
    {"participants", "status", "schedule", "agenda", "current", "notes", "decisions", "actions", "presence"}
)


def meeting_group(meeting_id: int) -> str:
    """Return the channel-layer group of a meeting's sockets."""
    return f"meeting-{meeting_id}"


def user_group(user_id: int) -> str:
    """Return the channel-layer group every socket of this user joins."""
    return f"user-{user_id}"


def check_event(event: dict) -> None:
    """Refuse an event of an unknown kind or with missing, extra or mistyped fields (a programming error)."""
    kind = event.get("type")
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown live event kind: {kind!r}")
    fields = EVENT_KINDS[kind]
    given = set(event) - {"type"}
    if given != set(fields):
        raise ValueError(f"live event {kind} needs fields {sorted(fields)}, got {sorted(given)}")
    for name, expected in fields.items():
        value = event[name]
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ValueError(f"live event {kind}: {name} must be {expected.__name__}")
    if kind == MEETING_CHANGED and event["what"] not in MEETING_CHANGES:
        raise ValueError(f"live event {kind}: unknown change {event['what']!r}")


def send_event_on_commit(group: str, event: dict) -> None:
    """Send one event to a group once the current transaction commits (at once outside a transaction)."""
    check_event(event)
    event = dict(event)
    transaction.on_commit(lambda: _send(group, event))


def _send(group: str, event: dict) -> None:
    try:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            async_to_sync(layer.group_send)(group, event)
        else:
            # Sync code running on an event loop's thread (a test driving a browser, a management shell):
            # async_to_sync refuses to run here, so the send gets a thread of its own.
            with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
                pool.submit(async_to_sync(layer.group_send), group, event).result()
    except Exception:
        logger.warning("live event %s to %s could not be sent", event.get("type"), group, exc_info=True)
