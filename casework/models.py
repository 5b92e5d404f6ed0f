"""The casework kernel: organizations, memberships and the access log (cases come next)."""

import pgtrigger
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casework.choices import Domain, Role


class Organization(models.Model):
    """An agency, office or community-place operator taking part in layered support."""

    class Kind(models.TextChoices):
        WINDOW = "window", _("相談支援機関（相談窓口）")
        COORDINATOR = "coordinator", _("多機関協働事業者")
        MUNICIPAL = "municipal", _("市町村（福祉担当課）")
        PLACE_OPERATOR = "place_operator", _("居場所運営団体")

    name = models.CharField(_("名称"), max_length=200, unique=True)
    short_name = models.CharField(_("略称"), max_length=50, blank=True)
    kind = models.CharField(_("種別"), max_length=20, choices=Kind.choices)
    # A window serves one or more domains; stored as a list of Domain codes.
    domains = models.JSONField(_("対応分野"), default=list, blank=True)
    phone = models.CharField(_("電話番号"), max_length=30, blank=True)
    email = models.EmailField(_("メールアドレス"), blank=True)
    address = models.CharField(_("所在地"), max_length=300, blank=True)
    is_active = models.BooleanField(_("有効"), default=True)
    # One Django Group per organization carries its object permissions (guardian).
    group = models.OneToOneField(Group, on_delete=models.PROTECT, editable=False, related_name="organization")
    created_at = models.DateTimeField(_("登録日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("機関・団体")
        verbose_name_plural = _("機関・団体")
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.short_name or self.name

    def save(self, *args, **kwargs):
        if self.group_id is None:
            self.group, _created = Group.objects.get_or_create(name=f"org:{self.name}")
        elif self.pk:
            # Keep the group's name in step when the organization is renamed.
            Group.objects.filter(pk=self.group_id).exclude(name=f"org:{self.name}").update(name=f"org:{self.name}")
        super().save(*args, **kwargs)

    def clean(self):
        unknown = [code for code in self.domains or [] if code not in Domain.values]
        if unknown:
            raise ValidationError({"domains": _("不明な分野があります: %(codes)s") % {"codes": ", ".join(unknown)}})
        if self.kind != self.Kind.WINDOW and self.domains:
            raise ValidationError({"domains": _("対応分野は相談支援機関にだけ設定できます。")})

    @property
    def domain_labels(self) -> list[str]:
        return [str(Domain(code).label) for code in self.domains or [] if code in Domain.values]


class Membership(models.Model):
    """A user's place in an organization, with the role that decides their screens."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("ユーザー")
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("機関・団体")
    )
    role = models.CharField(_("役割"), max_length=20, choices=Role.choices)
    title = models.CharField(_("職名"), max_length=100, blank=True)
    is_active = models.BooleanField(_("有効"), default=True)
    created_at = models.DateTimeField(_("登録日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("所属")
        verbose_name_plural = _("所属")
        constraints = [
            models.UniqueConstraint(fields=["user", "organization", "role"], name="membership_unique_role"),
        ]
        indexes = [
            # Serves "the active memberships of this user" on every request (navigation, access).
            models.Index(fields=["user", "is_active"], name="membership_user_active_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user} / {self.organization} / {self.get_role_display()}"


class AccessLog(models.Model):
    """One access to personal data: who, when, from where, what, whose, on what basis; no content.

    Rows are append-only (database triggers on PostgreSQL) and hash-chained per day so an
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
        NONE = "none", _("未認証")

    class Outcome(models.TextChoices):
        ALLOWED = "allowed", _("許可")
        DENIED = "denied", _("拒否")

    at = models.DateTimeField(_("日時"), default=timezone.now)
    # The day the row's hash chain belongs to (Asia/Tokyo), and its place in that chain.
    day = models.DateField(_("チェーン日付"))
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
            # One linear chain per day: a second writer with the same position fails loudly.
            models.UniqueConstraint(fields=["day", "seq"], name="accesslog_day_seq_unique"),
        ]
        indexes = [
            # Auditor filters: by actor over a period, by object, by date.
            models.Index(fields=["actor", "at"], name="accesslog_actor_at_idx"),
            models.Index(fields=["object_type", "object_id"], name="accesslog_object_idx"),
            models.Index(fields=["at"], name="accesslog_at_idx"),
            models.Index(fields=["action", "at"], name="accesslog_action_at_idx"),
        ]
        triggers = [
            pgtrigger.Protect(name="accesslog_no_update", operation=pgtrigger.Update),
            pgtrigger.Protect(name="accesslog_no_delete", operation=pgtrigger.Delete),
            pgtrigger.Trigger(
                name="accesslog_no_truncate",
                operation=pgtrigger.Truncate,
                level=pgtrigger.Statement,
                when=pgtrigger.Before,
                func="RAISE EXCEPTION 'pgtrigger: Cannot truncate % table', TG_TABLE_NAME;",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_username} {self.get_action_display()} {self.object_type}#{self.object_id}"
