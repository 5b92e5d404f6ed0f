"""Writing notifications: called by the services of every app inside the transaction of the event.

A notification goes to every active member of the organizations concerned (their case and place roles,
not auditors or administrators) and to the responsible worker, once per person, never to the person who
caused the event. The rows commit with the event or not at all; the unread badge of each recipient is
updated live after commit (casework.notifications.live).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from casework.choices import Role
from casework.models import Case, Membership, Notification, Organization
from casework.notifications import live

# The roles that receive their organization's notifications.
RECEIVING_ROLES = (Role.CASEWORKER, Role.SUPERVISOR, Role.PLACE_STAFF)


def recipients(
    *, organizations: Iterable[Organization | None] = (), users: Iterable = (), by=None
) -> dict[int, int | None]:
    """Return {user id: organization id it receives for} for the organizations' members and the users."""
    org_ids = [org.pk for org in organizations if org is not None]
    found: dict[int, int | None] = {}
    if org_ids:
        rows = (
            Membership.objects.filter(
                organization_id__in=org_ids, role__in=RECEIVING_ROLES, is_active=True, user__is_active=True
            )
            .order_by("user_id", "organization_id")
            .values_list("user_id", "organization_id")
        )
        for user_id, org_id in rows:
            found.setdefault(user_id, org_id)
    for user in users:
        if user is not None and user.is_active:
            found.setdefault(user.pk, None)
    if by is not None:
        found.pop(by.pk, None)
    return found


def notify(
    *,
    kind: str,
    summary: str,
    by=None,
    organizations: Iterable[Organization | None] = (),
    users: Iterable = (),
    case: Case | None = None,
    target_type: str = "",
    target_id="",
    url: str = "",
    dedupe_key: str = "",
) -> list[Notification]:
    """Write one notification per recipient in the caller's transaction; return the rows written."""
    to = recipients(organizations=organizations, users=users, by=by)
    if not to:
        return []
    if dedupe_key:
        already = set(
            Notification.objects.filter(user_id__in=to, dedupe_key=dedupe_key).values_list("user_id", flat=True)
        )
        to = {user_id: org_id for user_id, org_id in to.items() if user_id not in already}
    rows = [
        Notification(
            user_id=user_id,
            organization_id=org_id,
            kind=kind,
            case=case,
            target_type=target_type,
            target_id=str(target_id),
            url=url[:300],
            summary=summary[:300],
            dedupe_key=dedupe_key[:120],
        )
        for user_id, org_id in sorted(to.items())
    ]
    with transaction.atomic():
        Notification.objects.bulk_create(rows)
    live.unread_changed_on_commit(list(to))
    return rows


def notification_mark_read(*, notification: Notification, by) -> None:
    if notification.user_id != by.pk:
        return
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=timezone.now())
        live.unread_changed_on_commit([by.pk])


def notifications_mark_all_read(*, by) -> int:
    count = Notification.objects.filter(user=by, read_at__isnull=True).update(read_at=timezone.now())
    if count:
        live.unread_changed_on_commit([by.pk])
    return count
