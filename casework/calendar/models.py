"""The personal calendar feed: a secret URL a user's calendar program polls (RFC 5545)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CalendarFeed(models.Model):
    """A user's ICS feed token: the secret is in the URL, shown once; only its SHA-256 is kept.

    The feed shows what the membership it was made in may see now (checked at every fetch); issuing a new
    one revokes the old, and a revoked feed, an ended membership or a disabled account answers 404.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds", verbose_name=_("利用者")
    )
    membership = models.ForeignKey(
        "casework.Membership", on_delete=models.PROTECT, related_name="+", verbose_name=_("所属・役割")
    )
    # The first characters of the secret, shown on the settings screen so the user recognises the URL.
    prefix = models.CharField(_("識別用の先頭文字"), max_length=12)
    digest = models.CharField(_("ハッシュ"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("発行日時"), default=timezone.now)
    revoked_at = models.DateTimeField(_("失効日時"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("最終取得日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("カレンダー配信")
        verbose_name_plural = _("カレンダー配信")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(revoked_at__isnull=True), name="calendar_feed_one_live_per_user"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.prefix}…"
