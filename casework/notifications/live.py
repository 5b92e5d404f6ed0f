"""The unread-count event to each user's sockets (their user group), sent through casework.live.

The event carries no content: the page fetches the new count over HTTP.
"""

from __future__ import annotations

from casework.live import NOTIFICATIONS_CHANGED, send_event_on_commit, user_group

EVENT_TYPE = NOTIFICATIONS_CHANGED


def unread_changed_on_commit(user_ids: list[int]) -> None:
    for user_id in sorted(set(user_ids)):
        send_event_on_commit(user_group(user_id), {"type": NOTIFICATIONS_CHANGED})
