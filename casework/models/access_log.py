"""The access log: who read or changed whose data, why, hash-chained per day."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casework.models.organizations import Organization


class AccessLog(models.Model):
    """One access to personal data: who, when, from where, what, whose, on what basis; no content.

    Rows are append-only (database triggers on PostgreSQL) and hash-chained per day and stream so an
    auditor can prove that nothing was altered or removed afterwards.
    """

    class Action(models.TextChoices):
        VIEW = "view", _("閲覧")
        LIST = "list", _("一覧")
        SEARCH = "search", _("検索")
        EXPORT = "export", _("出力")
        PRINT = "print", _("印刷")
        CREATE = "create", _("作成")
        CHANGE = "change", _("変更")
        TRANSITION = "transition", _("状態変更")
        SHARE = "share", _("共有・紹介")
        MEETING_SUBSCRIBE = "meeting_subscribe", _("会議の購読")
        GRANT_REQUEST = "grant_request", _("権限付与の申請")
        GRANT_APPROVE = "grant_approve", _("権限付与の承認")
        GRANT_REJECT = "grant_reject", _("権限付与の却下・取下げ")
        MEMBERSHIP_GRANT = "membership_grant", _("所属・役割の付与")
        MEMBERSHIP_END = "membership_end", _("所属・役割の終了")
        MEMBERSHIP_SWITCH = "membership_switch", _("作業する所属・役割の切替")
        HANDOVER = "handover", _("担当の引継ぎ（人事異動）")
        ACCOUNT_DEACTIVATE = "account_deactivate", _("アカウントの無効化")
        ACCOUNT_CREATE = "account_create", _("アカウントの作成")
        DISPOSE = "dispose", _("廃棄（保存期間の満了）")
        DENIED = "denied", _("拒否")

    class Basis(models.TextChoices):
        OWN_ORGANIZATION = "own_org", _("自機関・ケースチーム")
        SUPERVISION = "supervision", _("所属機関の管理")
        CONSENT = "consent", _("本人同意")
        SUPPORT_MEETING = "support_meeting", _("支援会議（法第106条の6）")
        BREAK_GLASS = "break_glass", _("緊急アクセス")
        AUDIT = "audit", _("監査")
        NONE = "none", _("なし")

    class AuthStrength(models.TextChoices):
        PASSWORD = "password", _("パスワード")
        SECOND_FACTOR = "otp", _("二要素認証")
        BREAK_GLASS = "break_glass", _("緊急アクセス")
        API_TOKEN = "api_token", _("APIトークン")
        FEED_TOKEN = "feed_token", _("カレンダー配信URL")
        NONE = "none", _("未認証")

    class Outcome(models.TextChoices):
        ALLOWED = "allowed", _("許可")
        DENIED = "denied", _("拒否")

    at = models.DateTimeField(_("日時"), default=timezone.now)
    # The day the row's hash chain belongs to (Asia/Tokyo), and its place in that chain.
    day = models.DateField(_("チェーン日付"))
    # Which of the day's chains (casework.audit.STREAMS) the row belongs to, and its place in that chain.
    stream = models.PositiveSmallIntegerField(_("系列"), default=0)
    seq = models.PositiveIntegerField(_("連番"))
    request_id = models.CharField(_("リクエストID"), max_length=36, blank=True)
    # PROTECT: accounts are deactivated, never deleted, while the log refers to them.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("操作者")
    )
    actor_username = models.CharField(_("ログインID"), max_length=150, blank=True)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("所属機関")
    )
    role = models.CharField(_("役割"), max_length=20, blank=True)
    auth_strength = models.CharField(_("認証強度"), max_length=20, choices=AuthStrength.choices)
    ip = models.GenericIPAddressField(_("IPアドレス"), null=True, blank=True)
    action = models.CharField(_("操作"), max_length=20, choices=Action.choices)
    object_type = models.CharField(_("対象種別"), max_length=60, blank=True)
    object_id = models.CharField(_("対象ID"), max_length=40, blank=True)
    # Ids of every person whose data was shown or touched (a list page logs all of them).
    person_ids = models.JSONField(_("対象者ID"), default=list, blank=True)
    basis = models.CharField(_("根拠"), max_length=20, choices=Basis.choices, default=Basis.NONE)
    basis_ref = models.CharField(_("根拠の参照"), max_length=60, blank=True)
    reason = models.CharField(_("理由"), max_length=500, blank=True)
    outcome = models.CharField(_("結果"), max_length=10, choices=Outcome.choices, default=Outcome.ALLOWED)
    path = models.CharField(_("URL"), max_length=300, blank=True)
    prev_hash = models.CharField(_("直前のハッシュ"), max_length=64)
    hash = models.CharField(_("ハッシュ"), max_length=64)

    class Meta:
        verbose_name = _("アクセス記録")
        verbose_name_plural = _("アクセス記録")
        ordering = ["-at", "-id"]
        constraints = [
            # One linear chain per day and stream: a second writer with the same position fails loudly.
            models.UniqueConstraint(fields=["day", "stream", "seq"], name="accesslog_day_stream_seq_unique"),
        ]
        indexes = [
            # Auditor filters: by actor over a period, by object, by date.
            models.Index(fields=["actor", "at"], name="accesslog_actor_at_idx"),
            # The auditor's search by login ID over a period (audit_selectors.filter_log, newest first).
            models.Index(fields=["actor_username", "at"], name="accesslog_actor_name_at_idx"),
            models.Index(fields=["object_type", "object_id"], name="accesslog_object_idx"),
            models.Index(fields=["at"], name="accesslog_at_idx"),
            models.Index(fields=["action", "at"], name="accesslog_action_at_idx"),
        ]
        # Append-only on PostgreSQL through plain triggers that no session setting can switch off
        # (migration 0006; pgtrigger's Protect obeys `SET pgtrigger.ignore`, which any role may set).

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_username} {self.get_action_display()} {self.object_type}#{self.object_id}"
