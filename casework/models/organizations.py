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
