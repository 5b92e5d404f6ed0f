"""開示請求: a person's request to see their own record, its deadline, decision and redaction review."""

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casework.models.persons import Person

# 個人情報保護法 第83条: decided within 30 days of receipt, extendable by 30 days with a reason.
DECISION_DAYS = 30
EXTENSION_DAYS = 30


class DisclosureRequest(models.Model):
    """One 開示請求 for one person, handled by a privacy officer (監査担当・個人情報保護担当)."""

    class Requester(models.TextChoices):
        SELF = "self", _("本人")
        LEGAL_REPRESENTATIVE = "legal_representative", _("法定代理人")
        AGENT = "agent", _("任意代理人")

    class Decision(models.TextChoices):
        FULL = "full", _("全部開示")
        PARTIAL = "partial", _("部分開示")
        REFUSED = "refused", _("不開示")

    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="disclosure_requests", verbose_name=_("本人")
    )
    requester = models.CharField(_("請求者"), max_length=30, choices=Requester.choices, default=Requester.SELF)
    received_on = models.DateField(_("受付日"))
    due_on = models.DateField(_("決定期限"))
    extended_due_on = models.DateField(_("延長後の期限"), null=True, blank=True)
    extension_reason = models.CharField(_("延長の理由"), max_length=500, blank=True)
    decision = models.CharField(_("決定"), max_length=20, choices=Decision.choices, blank=True)
    decided_on = models.DateField(_("決定日"), null=True, blank=True)
    decision_reason = models.TextField(_("部分開示・不開示の理由"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("登録日時"), default=timezone.now)

    class Meta:
        verbose_name = _("開示請求")
        verbose_name_plural = _("開示請求")
        ordering = ["-received_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(extended_due_on__isnull=True) | ~models.Q(extension_reason=""),
                name="disclosurerequest_extension_has_reason",
            ),
            models.CheckConstraint(
                condition=models.Q(decision="") | models.Q(decided_on__isnull=False),
                name="disclosurerequest_decision_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"開示請求 #{self.pk}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("casework:disclosure_request", args=[self.pk])

    @staticmethod
    def due_date(received_on: datetime.date) -> datetime.date:
        return received_on + datetime.timedelta(days=DECISION_DAYS)

    @property
    def deadline(self) -> datetime.date:
        return self.extended_due_on or self.due_on

    @property
    def is_decided(self) -> bool:
        return bool(self.decision)

    @property
    def is_overdue(self) -> bool:
        return not self.is_decided and timezone.localdate() > self.deadline


class DisclosureRedaction(models.Model):
    """The privacy officer's decision on one flagged passage: withhold (third party's data) or release."""

    request = models.ForeignKey(DisclosureRequest, on_delete=models.CASCADE, related_name="redactions")
    # Which field of which record, e.g. "contactrecord:12:summary"; the passage itself is not copied here.
    item_key = models.CharField(_("項目"), max_length=100)
    withhold = models.BooleanField(_("非開示にする"))
    note = models.CharField(_("理由"), max_length=300, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("日時"), default=timezone.now)

    class Meta:
        verbose_name = _("開示の黒塗り判断")
        verbose_name_plural = _("開示の黒塗り判断")
        constraints = [
            models.UniqueConstraint(fields=["request", "item_key"], name="disclosureredaction_item_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.request} {self.item_key}"
