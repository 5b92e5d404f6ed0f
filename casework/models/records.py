"""What a case holds: consent, assessments, support plans and their roles, contact records."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casework.models.cases import Case
from casework.models.organizations import Organization
from casework.models.persons import Person

# ---------------------------------------------------------------------------
# Consent, assessments, plans and contact records
# ---------------------------------------------------------------------------


class ConsentPurpose(models.TextChoices):
    """What a consent allows the data to be used for."""

    SHARE_WITH_AGENCIES = "share_with_agencies", _("関係機関との情報共有")
    LAYERED_MEETING = "layered_meeting", _("重層的支援会議での検討")
    PLACE_REFERRAL = "place_referral", _("参加支援先への紹介")


def consent_form_path(instance, filename: str) -> str:
    """Store scanned forms under an opaque name; the original file name may contain a person's name."""
    import uuid
    from pathlib import PurePath

    suffix = PurePath(filename).suffix.lower()[:10]
    return f"consent_forms/{timezone.localdate():%Y/%m}/{uuid.uuid4().hex}{suffix}"


class Consent(models.Model):
    """One entry of a person's consent ledger: who agreed to what, for whom, until when."""

    class GivenBy(models.TextChoices):
        SELF = "self", _("本人")
        LEGAL_REPRESENTATIVE = "legal_representative", _("法定代理人")
        GUARDIAN = "guardian", _("成年後見人等")

    class Method(models.TextChoices):
        WRITTEN = "written", _("書面")
        ORAL = "oral", _("口頭")
        ELECTRONIC = "electronic", _("電子")

    class ScopeKind(models.TextChoices):
        NAMED = "named", _("指定した機関")
        CASE_TEAM = "case_team", _("ケースチームの全機関")

    class Status(models.TextChoices):
        GIVEN = "given", _("同意")
        REFUSED = "refused", _("不同意")
        WITHDRAWN = "withdrawn", _("撤回")

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="consents", verbose_name=_("本人"))
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="consents", verbose_name=_("ケース")
    )
    given_by = models.CharField(_("同意した人"), max_length=30, choices=GivenBy.choices, default=GivenBy.SELF)
    giver_name = models.CharField(_("同意した人の氏名"), max_length=100, blank=True)
    given_on = models.DateField(_("同意日"))
    method = models.CharField(_("方法"), max_length=20, choices=Method.choices)
    explained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("説明者")
    )
    document_version = models.CharField(_("説明文書の版"), max_length=50, blank=True)
    scope_kind = models.CharField(_("範囲"), max_length=20, choices=ScopeKind.choices)
    organizations = models.ManyToManyField(
        Organization, blank=True, related_name="consents", verbose_name=_("提供先の機関")
    )
    purposes = models.JSONField(_("目的"), default=list)
    valid_until = models.DateField(_("有効期限"), null=True, blank=True)
    status = models.CharField(_("状態"), max_length=20, choices=Status.choices, default=Status.GIVEN)
    withdrawn_on = models.DateField(_("撤回日"), null=True, blank=True)
    withdrawal_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("撤回の記録者"),
    )
    withdrawal_note = models.TextField(_("撤回の内容"), blank=True)
    # Served only through a permission-checked view (MEDIA_URL is off).
    scanned_form = models.FileField(_("同意書の写し"), upload_to=consent_form_path, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("記録日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("同意")
        verbose_name_plural = _("同意")
        ordering = ["-given_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="withdrawn") | models.Q(withdrawn_on__isnull=False),
                name="consent_withdrawn_has_date",
            ),
            models.CheckConstraint(
                condition=~models.Q(scope_kind="case_team") | models.Q(case__isnull=False),
                name="consent_case_team_needs_case",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.given_on} {self.get_status_display()}"

    def clean(self):
        unknown = [p for p in self.purposes or [] if p not in ConsentPurpose.values]
        if unknown or not self.purposes:
            raise ValidationError({"purposes": _("目的を一つ以上選んでください。")})
        if self.valid_until and self.valid_until < self.given_on:
            raise ValidationError({"valid_until": _("有効期限は同意日より後にしてください。")})
        if self.scope_kind == self.ScopeKind.CASE_TEAM and self.case_id is None:
            raise ValidationError({"scope_kind": _("ケースチームを範囲にするにはケースが必要です。")})

    @property
    def purpose_labels(self) -> list[str]:
        return [str(ConsentPurpose(p).label) for p in self.purposes or [] if p in ConsentPurpose.values]

    def status_on(self, day) -> str:
        """Return given / refused / withdrawn / expired as of that day."""
        if self.status == self.Status.REFUSED:
            return "refused"
        if self.status == self.Status.WITHDRAWN and self.withdrawn_on and self.withdrawn_on <= day:
            return "withdrawn"
        if self.valid_until and day > self.valid_until:
            return "expired"
        if day < self.given_on:
            return "not_yet"
        return "given"

    @property
    def current_status(self) -> str:
        return self.status_on(timezone.localdate())

    @property
    def current_status_label(self) -> str:
        return str(CONSENT_STATUS_LABELS[self.current_status])


CONSENT_STATUS_LABELS = {
    "given": _("同意あり"),
    "refused": _("不同意"),
    "withdrawn": _("撤回済み"),
    "expired": _("期限切れ"),
    "not_yet": _("同意日前"),
}


class Assessment(models.Model):
    """インテーク・アセスメント: a checklist under a versioned schema plus a narrative."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="assessments")
    schema_version = models.PositiveSmallIntegerField(_("様式の版"))
    checklist = models.JSONField(_("チェックリスト"), default=dict)
    narrative = models.TextField(_("見立て"), blank=True)
    assessed_on = models.DateField(_("実施日"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("実施者")
    )
    created_at = models.DateTimeField(_("記録日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("アセスメント")
        verbose_name_plural = _("アセスメント")
        ordering = ["-assessed_on", "-id"]

    def __str__(self) -> str:
        return f"{self.case} {self.assessed_on}"


class SupportPlan(models.Model):
    """支援プラン: goals, roles per organization, a period and the next review."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("作成中")
        PROPOSED = "proposed", _("会議に提案")
        APPROVED = "approved", _("承認済み")
        SUPERSEDED = "superseded", _("改定により終了")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="plans")
    version = models.PositiveIntegerField(_("版"))
    goals = models.TextField(_("目標"))
    status = models.CharField(_("状態"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    period_start = models.DateField(_("期間（開始）"), null=True, blank=True)
    period_end = models.DateField(_("期間（終了）"), null=True, blank=True)
    next_review_on = models.DateField(_("次回見直し日"), null=True, blank=True)
    includes_participation_support = models.BooleanField(_("参加支援を含む"), default=False)
    includes_outreach = models.BooleanField(_("アウトリーチを含む"), default=False)
    approved_on = models.DateField(_("承認日"), null=True, blank=True)
    approved_by_label = models.CharField(_("承認した会議など"), max_length=200, blank=True)
    approved_by_ref = models.CharField(_("承認の参照"), max_length=60, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("支援プラン")
        verbose_name_plural = _("支援プラン")
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["case", "version"], name="plan_case_version_unique"),
            models.UniqueConstraint(
                fields=["case"], condition=models.Q(status="approved"), name="plan_one_approved_per_case"
            ),
            models.CheckConstraint(
                condition=models.Q(period_end__isnull=True)
                | models.Q(period_start__isnull=True)
                | models.Q(period_end__gte=models.F("period_start")),
                name="plan_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case} 第{self.version}版"


class PlanRole(models.Model):
    """One organization's part in a plan: its role, actions and period."""

    plan = models.ForeignKey(SupportPlan, on_delete=models.CASCADE, related_name="roles")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+", verbose_name=_("機関"))
    role = models.CharField(_("役割"), max_length=200)
    actions = models.TextField(_("具体的な支援"), blank=True)
    period_start = models.DateField(_("期間（開始）"), null=True, blank=True)
    period_end = models.DateField(_("期間（終了）"), null=True, blank=True)

    class Meta:
        verbose_name = _("プランの役割分担")
        verbose_name_plural = _("プランの役割分担")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.plan} / {self.organization}: {self.role}"


class ContactRecord(models.Model):
    """支援経過記録: one contact, visit or attempt (failed outreach counts too)."""

    class Kind(models.TextChoices):
        INTERVIEW = "interview", _("面談")
        PHONE = "phone", _("電話")
        VISIT = "visit", _("訪問")
        ACCOMPANY = "accompany", _("同行")
        MEETING = "meeting", _("会議")
        ABSENT = "absent", _("不在")
        REFUSED = "refused", _("拒否")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="contacts")
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("対象者")
    )
    occurred_at = models.DateTimeField(_("日時"))
    kind = models.CharField(_("種別"), max_length=20, choices=Kind.choices)
    is_outreach = models.BooleanField(_("アウトリーチ"), default=False)
    summary = models.TextField(_("内容"))
    sensitive = models.BooleanField(_("要配慮"), default=False)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+", verbose_name=_("機関"))
    created_at = models.DateTimeField(_("記録日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("支援経過記録")
        verbose_name_plural = _("支援経過記録")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            # The case detail's record list, newest first.
            models.Index(fields=["case", "-occurred_at"], name="contact_case_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.case} {self.occurred_at:%Y-%m-%d} {self.get_kind_display()}"
