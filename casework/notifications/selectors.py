"""Reading notifications: the unread count, and the list with each row's case checked afresh."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from casework import disclosure
from casework.models import Notification

# target type ("referral") -> check(viewer, target_id) -> bool: may the reader still open the target?
# Upper apps register from their AppConfig.ready (casework never imports them).
TARGET_CHECKS: dict[str, Callable[[object, str], bool]] = {}


def register_target_check(target_type: str, check: Callable[[object, str], bool]) -> None:
    TARGET_CHECKS[target_type] = check


def unread_count(user) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


@dataclass
class NotificationRow:
    notification: Notification
    visible: bool  # the reader still has a basis for what it is about: show the summary and the link
    case_visible: bool  # ... and for its case: show the case number

    @property
    def case_number(self) -> str:
        case = self.notification.case
        return case.number if (self.case_visible and case is not None) else ""


def case_visible(viewer, notification: Notification) -> bool:
    if notification.case_id is None:
        return False
    basis = disclosure.case_basis(viewer, notification.case)
    return basis is not None and basis.break_glass is None


def row_visible(viewer, notification: Notification, *, case_ok: bool | None = None) -> bool:
    """Ask the disclosure module (and the target's app) now, not when the notification was written."""
    if case_ok is None:
        case_ok = case_visible(viewer, notification)
    if case_ok:
        return True
    if notification.target_type in TARGET_CHECKS:
        try:
            return bool(TARGET_CHECKS[notification.target_type](viewer, notification.target_id))
        except Exception:
            return False
    return notification.case_id is None and not notification.target_type


def notifications_for(viewer, *, unread_only: bool = False, kind: str = "", limit: int = 100) -> list[NotificationRow]:
    rows = Notification.objects.filter(user=viewer.user).select_related("case")
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    if kind:
        rows = rows.filter(kind=kind)
    result = []
    for notification in rows[:limit]:
        case_ok = case_visible(viewer, notification)
        result.append(NotificationRow(notification, row_visible(viewer, notification, case_ok=case_ok), case_ok))
    return result
