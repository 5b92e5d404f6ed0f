"""Tokens for the read-only open API: one organization each, scoped, revocable, stored only as a digest."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casework.models.organizations import Organization


class ApiScope(models.TextChoices):
    """What a token may read."""

    HSDS = "hsds:read", _("居場所の一覧（HSDS 3.0）")
    FHIR_TASK = "fhir-task:read", _("自機関の紹介（FHIR R4 Task）")


class ApiToken(models.Model):
    """A bearer token of one organization; the secret is shown once and only its SHA-256 is kept."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="api_tokens", verbose_name=_("機関・団体")
    )
    label = models.CharField(_("用途"), max_length=100)
    # The first characters of the secret, shown in lists so a leaked token can be recognised.
    prefix = models.CharField(_("識別用の先頭文字"), max_length=12)
    # SHA-256 of the whole secret: the secret has 256 random bits, so a plain digest is enough.
    digest = models.CharField(_("ハッシュ"), max_length=64, unique=True, editable=False)
    scopes = models.JSONField(_("範囲"), default=list)
    expires_on = models.DateField(_("有効期限"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("発行者")
    )
    created_at = models.DateTimeField(_("発行日時"), default=timezone.now)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("失効させた人"),
    )
    revoked_at = models.DateTimeField(_("失効日時"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("最終利用日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("APIトークン")
        verbose_name_plural = _("APIトークン")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.organization} {self.label} ({self.prefix}…)"

    @property
    def scope_labels(self) -> list[str]:
        return [str(ApiScope(s).label) for s in self.scopes or [] if s in ApiScope.values]

    def is_usable(self, today=None) -> bool:
        today = today or timezone.localdate()
        if self.revoked_at is not None or not self.organization.is_active:
            return False
        return self.expires_on is None or today <= self.expires_on
