"""The daily digest mail: counts and links only (never a name, case content or 要配慮個人情報).

`queue_digests(day)` is a daily job (casework.scheduling): it creates one DigestDelivery per opted-in user
and day and enqueues its sending in the same transaction, so a second run of the day queues nothing.
`digest_send` runs on a worker (casework.tasks.send_digest); a failed send is queued again with a growing
delay, up to DIGEST_MAX_ATTEMPTS, and the failed attempt stays visible in the queue. Nothing here runs in a
request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from casework.calendar import dated_items, has_calendar
from casework.models import DigestDelivery, DigestSubscription, Notification
from casework.viewers import Viewer
from core.japanese import format_wareki

TODO_PAST_DAYS = 365
TODO_AHEAD_DAYS = 7
RETRY_BASE_MINUTES = 5


@dataclass(frozen=True)
class DigestCounts:
    unread: int
    overdue: int | None  # None: the user has no やること (no calendar role)
    today: int | None
    ahead: int | None

    @property
    def empty(self) -> bool:
        return not (self.unread or self.overdue or self.today or self.ahead)


def digest_counts(user, day: date) -> DigestCounts:
    """Count the user's unread notifications and their own やること (overdue, due on the day, within 7 days)."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True).count()
    viewer = Viewer(user)
    if not has_calendar(viewer):
        return DigestCounts(unread, None, None, None)
    items = [
        item
        for item in dated_items(
            viewer, day - timedelta(days=TODO_PAST_DAYS), day + timedelta(days=TODO_AHEAD_DAYS), mine=True
        )
        if item.todo
    ]
    return DigestCounts(
        unread,
        sum(1 for item in items if item.on < day),
        sum(1 for item in items if item.on == day),
        sum(1 for item in items if item.on > day),
    )


def digest_message(user, counts: DigestCounts, day: date) -> EmailMessage:
    """Build the message: counts and links, no salutation by name."""
    todo_total = sum(n or 0 for n in (counts.overdue, counts.today, counts.ahead))
    context = {
        "day": format_wareki(day),
        "counts": counts,
        "notifications_url": settings.SITE_URL + reverse("casework:notifications"),
        "todo_url": settings.SITE_URL + reverse("casework:todo"),
        "settings_url": settings.SITE_URL + reverse("casework:personal_settings"),
        "ahead_days": TODO_AHEAD_DAYS,
    }
    subject = f"【重層的支援】お知らせ {counts.unread}件・やること {todo_total}件（{day.month}月{day.day}日）"
    body = render_to_string("casework/mail/digest.txt", context)
    return EmailMessage(subject=subject, body=body, to=[user.email])


def queue_digests(day: date, *, send) -> str:
    """Queue the day's digest for every active user who opted in and has an address (once per user and day).

    `send` is the job that sends one (casework.tasks.send_digest), passed in so this module never imports
    the tasks module that imports it.
    """
    users = (
        get_user_model()
        .objects.filter(is_active=True, digest_subscription__daily=True)
        .exclude(email="")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    queued = 0
    for user_id in users.iterator():
        with transaction.atomic():
            delivery, created = DigestDelivery.objects.get_or_create(user_id=user_id, day=day)
            if created:
                send.enqueue(delivery.pk)
                queued += 1
    return f"まとめメール {queued} 件を送信待ちにしました"


def _skip(delivery: DigestDelivery, why: str) -> str:
    delivery.status = DigestDelivery.Status.SKIPPED
    delivery.outcome = why
    delivery.save(update_fields=["status", "outcome"])
    return why


def digest_send(delivery_id: int, *, resend) -> str:
    """Send one queued digest; on failure queue it again with `resend` (growing delay) or give up, and re-raise."""
    with transaction.atomic():
        delivery = DigestDelivery.objects.select_for_update().select_related("user").filter(pk=delivery_id).first()
        if delivery is None or delivery.status not in (DigestDelivery.Status.QUEUED, DigestDelivery.Status.RETRYING):
            return "送信済みまたは対象外"
        user = delivery.user
        subscribed = DigestSubscription.objects.filter(user=user, daily=True).exists()
        if not user.is_active or not subscribed or not user.email:
            return _skip(delivery, "配信停止・アカウント無効・アドレスなし")
        counts = digest_counts(user, delivery.day)
        if counts.empty:
            return _skip(delivery, "お知らせ・やることなし")
        delivery.attempts += 1
        delivery.save(update_fields=["attempts"])
    message = digest_message(user, counts, delivery.day)
    try:
        # Outside any transaction: no row stays locked while the SMTP server answers.
        message.send()
    except Exception as error:
        with transaction.atomic():
            if delivery.attempts < settings.DIGEST_MAX_ATTEMPTS:
                delivery.status = DigestDelivery.Status.RETRYING
                delay = timedelta(minutes=RETRY_BASE_MINUTES * 2 ** (delivery.attempts - 1))
                resend.using(run_after=timezone.now() + delay).enqueue(delivery.pk)
            else:
                delivery.status = DigestDelivery.Status.FAILED
            delivery.outcome = f"送信エラー: {type(error).__name__}"[:200]
            delivery.save(update_fields=["status", "outcome"])
        raise
    delivery.status = DigestDelivery.Status.SENT
    delivery.sent_at = timezone.now()
    delivery.outcome = ""
    delivery.save(update_fields=["status", "sent_at", "outcome"])
    return "送信しました"
