"""A user's own settings: the personal calendar feed (ICS) and the daily digest mail."""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from casework import audit
from casework.calendar import has_calendar
from casework.models import AccessLog, CalendarFeed, DigestSubscription
from casework.services.api_tokens import token_digest
from casework.viewers import viewer_of

FEED_PREFIX = "jcal_"


@transaction.atomic(durable=True)
def calendar_feed_issue(*, by) -> tuple[CalendarFeed, str]:
    """Make the user's feed URL secret, revoking the one they had; return the feed and its secret (shown once)."""
    viewer = viewer_of(by)
    membership = viewer.active_membership
    if membership is None or not has_calendar(viewer):
        raise ValidationError("この所属・役割ではカレンダーを配信できません。")
    now = timezone.now()
    revoked = CalendarFeed.objects.select_for_update().filter(user=by, revoked_at__isnull=True).update(revoked_at=now)
    secret = FEED_PREFIX + secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.create(
        user=by, membership=membership, prefix=secret[: len(FEED_PREFIX) + 6], digest=token_digest(secret)
    )
    audit.log_access(
        actor=by,
        action=AccessLog.Action.CREATE,
        object_type="calendar_feed",
        object_id=feed.pk,
        reason="カレンダー配信URLの発行" + ("（以前のURLは失効）" if revoked else ""),
    )
    return feed, secret


@transaction.atomic(durable=True)
def calendar_feed_revoke(*, by) -> int:
    """Revoke the user's feed URL (the next fetch gets 404); return how many were revoked (0 or 1)."""
    feeds = list(CalendarFeed.objects.select_for_update().filter(user=by, revoked_at__isnull=True))
    now = timezone.now()
    for feed in feeds:
        feed.revoked_at = now
        feed.save(update_fields=["revoked_at"])
        audit.log_access(
            actor=by,
            action=AccessLog.Action.CHANGE,
            object_type="calendar_feed",
            object_id=feed.pk,
            reason="カレンダー配信URLの失効",
        )
    return len(feeds)


@transaction.atomic(durable=True)
def digest_subscription_set(*, by, daily: bool) -> DigestSubscription:
    """Turn the user's daily digest mail on or off; on needs an e-mail address on the account."""
    if daily and not (by.email or "").strip():
        raise ValidationError(
            "メールアドレスが登録されていないため、まとめメールを受け取れません。管理者に登録を依頼してください。"
        )
    subscription, _created = DigestSubscription.objects.select_for_update().get_or_create(user=by)
    if subscription.daily != daily:
        subscription.daily = daily
        subscription.save(update_fields=["daily", "updated_at"])
    return subscription
