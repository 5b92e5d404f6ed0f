"""Organizations (consultation windows, places, coordinators), memberships and two-person role grants."""

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


def membership_active_q(*, on=None, prefix: str = "") -> models.Q:
    """Return the condition for a membership that holds on that day (today when not given).

    A membership holds while it has not been ended, its organization is active, its start date
    (開始日) has come and its end date (終了日, the first day without it) has not: an end date of
    4月1日 takes effect on 4月1日 by itself, with nobody pressing a button. `prefix` joins from
    another model ("memberships__", "operator__memberships__"); use the whole Q in one filter()
    so every condition speaks of the same membership row.
    """
    day = on or timezone.localdate()
    return (
        models.Q(
            **{
                f"{prefix}is_active": True,
                f"{prefix}organization__is_active": True,
            }
        )
        & (models.Q(**{f"{prefix}starts_on__isnull": True}) | models.Q(**{f"{prefix}starts_on__lte": day}))
        & (models.Q(**{f"{prefix}ends_on__isnull": True}) | models.Q(**{f"{prefix}ends_on__gt": day}))
    )


class MembershipQuerySet(models.QuerySet):
    def active(self, *, on=None):
        """The memberships that hold on that day (today when not given): see membership_active_q."""
        return self.filter(membership_active_q(on=on))


class Membership(models.Model):
    """A user's place in an organization, with the role that decides their screens.

    It holds from starts_on (開始日) until the day before ends_on (終了日); is_active is false once it
    was ended through membership_end. Every change is kept as a MembershipEvent with its reason.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("ユーザー")
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("機関・団体")
    )
    role = models.CharField(_("役割"), max_length=20, choices=Role.choices)
    title = models.CharField(_("職名"), max_length=100, blank=True)
    is_active = models.BooleanField(_("有効"), default=True)
    # Blank start: held from creation (rows from before dates existed). The end date is the first
    # day without the membership (人事異動 on 4月1日: ends_on = 4月1日).
    starts_on = models.DateField(_("開始日"), null=True, blank=True)
    ends_on = models.DateField(_("終了日（この日から無効）"), null=True, blank=True)
    end_reason = models.CharField(_("終了の理由"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("登録日時"), auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

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

    def holds_on(self, day=None) -> bool:
        """Whether the membership holds on that day (the organization's own state aside)."""
        day = day or timezone.localdate()
        if not self.is_active:
            return False
        if self.starts_on is not None and self.starts_on > day:
            return False
        return self.ends_on is None or self.ends_on > day

    @property
    def state_label(self) -> str:
        today = timezone.localdate()
        if not self.is_active or (self.ends_on is not None and self.ends_on <= today):
            return str(_("終了"))
        if self.starts_on is not None and self.starts_on > today:
            return str(_("開始前"))
        if self.ends_on is not None:
            return str(_("終了予定"))
        return str(_("有効"))


class MembershipEvent(models.Model):
    """One step in a membership's history: started, end scheduled or cancelled, ended; with its reason."""

    class Kind(models.TextChoices):
        STARTED = "started", _("開始")
        END_SCHEDULED = "end_scheduled", _("終了日の設定")
        END_CANCELLED = "end_cancelled", _("終了予定の取消し")
        ENDED = "ended", _("終了")

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="events", verbose_name=_("所属"))
    kind = models.CharField(_("種別"), max_length=20, choices=Kind.choices)
    effective_on = models.DateField(_("効力の日"))
    reason = models.CharField(_("理由"), max_length=300, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作者"),
    )
    at = models.DateTimeField(_("記録日時"), default=timezone.now)

    class Meta:
        verbose_name = _("所属の履歴")
        verbose_name_plural = _("所属の履歴")
        ordering = ["membership_id", "at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.effective_on}"


class MembershipGrant(models.Model):
    """A request to give a user a role in an organization, and its decision by a second administrator.

    Roles that open personal data or the administration itself take two administrators: one asks,
    another approves. Until then no Membership exists, so the request gives no access at all.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("承認待ち")
        APPROVED = "approved", _("承認済み")
        REJECTED = "rejected", _("却下・取下げ")
        APPLIED = "applied", _("即時付与（承認不要の役割）")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="membership_grants", verbose_name=_("ユーザー")
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="membership_grants", verbose_name=_("機関・団体")
    )
    role = models.CharField(_("役割"), max_length=20, choices=Role.choices)
    title = models.CharField(_("職名"), max_length=100, blank=True)
    reason = models.CharField(_("申請理由"), max_length=300)
    status = models.CharField(_("状態"), max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("申請者")
    )
    requested_at = models.DateTimeField(_("申請日時"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("承認・却下した管理者"),
    )
    decided_at = models.DateTimeField(_("承認・却下日時"), null=True, blank=True)
    decision_note = models.CharField(_("承認・却下のメモ"), max_length=300, blank=True)
    # The role starts on this day once approved (blank: on approval), e.g. 4月1日 for an April transfer.
    starts_on = models.DateField(_("開始日"), null=True, blank=True)
    membership = models.ForeignKey(
        Membership, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("付与された所属")
    )

    class Meta:
        verbose_name = _("権限付与の申請")
        verbose_name_plural = _("権限付与の申請")
        ordering = ["-requested_at", "-id"]
        constraints = [
            # Two persons: an approved grant was decided by an administrator other than the requester.
            models.CheckConstraint(
                condition=~models.Q(status="approved")
                | (models.Q(decided_by__isnull=False) & ~models.Q(decided_by=models.F("requested_by"))),
                name="membershipgrant_two_persons",
            ),
            models.UniqueConstraint(
                fields=["user", "organization", "role"],
                condition=models.Q(status="pending"),
                name="membershipgrant_one_pending",
            ),
        ]
        indexes = [
            # The approval screen: pending requests, oldest first.
            models.Index(fields=["status", "requested_at"], name="membershipgrant_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user} / {self.organization} / {self.get_role_display()}（{self.get_status_display()}）"
