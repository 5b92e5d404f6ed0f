"""In-app notifications: one row per recipient user, written in the transaction of the event."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    REFERRAL_RECEIVED = "referral_received", _("紹介の受信")
    REFERRAL_ACCEPTED = "referral_accepted", _("紹介の受諾")
    REFERRAL_REJECTED = "referral_rejected", _("紹介の辞退")
    REFERRAL_RETURNED = "referral_returned", _("紹介の差戻し")
    STAGE_RECORDED = "stage_recorded", _("参加の段階の記録")
    ATTENDANCE_RECORDED = "attendance_recorded", _("出欠の記録")
    FEEDBACK_RECORDED = "feedback_recorded", _("ひとことの記録")
    TEAM_ADDED = "team_added", _("ケースチームへの追加")
    TEAM_REMOVED = "team_removed", _("ケースチームからの除外")
    ACTION_ASSIGNED = "action_assigned", _("アクション項目の割当て")
    REFERRAL_OVERDUE = "referral_overdue", _("紹介の回答期限超過")
    REVIEW_DUE = "review_due", _("見直し時期")
    ACTION_DUE = "action_due", _("アクション項目の期限")
    CONSENT_EXPIRING = "consent_expiring", _("同意の有効期限")
    PLACE_CARD_EXPIRED = "place_card_expired", _("居場所の紹介カードの閲覧期限")
    ACCESS_LOG_ALERT = "access_log_alert", _("アクセス記録の検証エラー")
    APPROVAL_REQUESTED = "approval_requested", _("決裁の申請")
    APPROVAL_DECIDED = "approval_decided", _("決裁の結果")
    HANDOVER_RECEIVED = "handover_received", _("担当の引継ぎ（人事異動）")
    MEETING_INVITED = "meeting_invited", _("会議への招集")
    MEETING_RESCHEDULED = "meeting_rescheduled", _("会議の日時・会場の変更")
    MEETING_CANCELLED = "meeting_cancelled", _("会議の中止")


class Notification(models.Model):
    """Something that happened that a user should know about.

    The summary holds no person's name and no case content (organization names, numbers, kinds only);
    the case number and link are shown only while the disclosure module still gives the reader a basis
    for the case (casework.notifications.selectors).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("受信者")
    )
    organization = models.ForeignKey(
        "casework.Organization",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("宛先の機関"),
    )
    kind = models.CharField(_("種類"), max_length=30, choices=NotificationKind.choices)
    case = models.ForeignKey(
        "casework.Case", on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("ケース")
    )
    # What the notification is about, for the read-time check of upper apps ("referral", "meeting"...).
    target_type = models.CharField(_("対象の種類"), max_length=30, blank=True)
    target_id = models.CharField(_("対象ID"), max_length=64, blank=True)
    url = models.CharField(_("リンク"), max_length=300, blank=True)
    summary = models.CharField(_("内容"), max_length=300)
    # Scheduled notices carry a key (kind, object, date) so a second run of the day adds nothing.
    dedupe_key = models.CharField(_("重複防止キー"), max_length=120, blank=True)
    created_at = models.DateTimeField(_("日時"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("既読日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("お知らせ")
        verbose_name_plural = _("お知らせ")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_user_unread_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "dedupe_key"],
                condition=~models.Q(dedupe_key=""),
                name="notification_dedupe_per_user",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.summary}"


class DigestSubscription(models.Model):
    """A user's choice of the daily digest mail (off unless they opt in on 通知・配信の設定)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_subscription", verbose_name=_("利用者")
    )
    daily = models.BooleanField(_("毎日のまとめメール"), default=False)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    class Meta:
        verbose_name = _("まとめメールの設定")
        verbose_name_plural = _("まとめメールの設定")

    def __str__(self) -> str:
        return f"{self.user} {'on' if self.daily else 'off'}"


class DigestDelivery(models.Model):
    """One user's digest for one day: created when the day's job queues it, so a second run queues nothing."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("送信待ち")
        SENT = "sent", _("送信済み")
        RETRYING = "retrying", _("再送待ち")
        FAILED = "failed", _("送信失敗")
        SKIPPED = "skipped", _("送信なし")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("利用者")
    )
    day = models.DateField(_("対象日"))
    status = models.CharField(_("状態"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("試行回数"), default=0)
    # Why it was skipped or the last failure's kind (never the message's content).
    outcome = models.CharField(_("結果"), max_length=200, blank=True)
    sent_at = models.DateTimeField(_("送信日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("まとめメールの送信")
        verbose_name_plural = _("まとめメールの送信")
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="digest_once_per_user_and_day")]

    def __str__(self) -> str:
        return f"{self.user} {self.day} {self.status}"
