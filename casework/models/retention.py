"""Retention and disposal: the city's rules per record kind, legal holds, the daily list, two-person decisions, tombstones."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casework.models.cases import Case
from casework.models.persons import Person


class RetentionRule(models.Model):
    """How long one kind of record is kept after its starting event (終結, the attendance day...), set by the city.

    A row per registered kind (casework.retention.RETENTION_KINDS) is created with the shipped default
    after migrate; its candidates are listed every day, but none can be proposed for disposal until an
    administrator has confirmed the period against the city's 文書管理規程 (confirmed_at).
    """

    kind = models.CharField(_("記録の種類"), max_length=40, unique=True)
    years = models.PositiveSmallIntegerField(_("保存期間（年）"))
    basis = models.CharField(_("根拠（規程・条文など）"), max_length=300, blank=True)
    is_active = models.BooleanField(_("廃棄の対象にする"), default=True)
    confirmed_at = models.DateTimeField(_("市の確認日時"), null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("更新日時"), default=timezone.now)

    class Meta:
        verbose_name = _("保存期間の規則")
        verbose_name_plural = _("保存期間の規則")
        ordering = ["kind"]
        constraints = [
            models.CheckConstraint(condition=models.Q(years__gte=1, years__lte=100), name="retentionrule_years_range"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.years}年"


class LegalHold(models.Model):
    """A stop on disposal (訴訟・審査請求・開示請求の対応中など) for a case or a person, until released.

    A held case, and every record of a held person, is never listed as disposable and never disposed.
    """

    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="legal_holds", verbose_name=_("ケース")
    )
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="legal_holds", verbose_name=_("本人")
    )
    reason = models.CharField(_("理由"), max_length=300)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField(_("設定日時"), default=timezone.now)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    released_at = models.DateTimeField(_("解除日時"), null=True, blank=True)
    release_reason = models.CharField(_("解除の理由"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("廃棄の停止（リーガルホールド）")
        verbose_name_plural = _("廃棄の停止（リーガルホールド）")
        ordering = ["-set_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(case__isnull=False) & models.Q(person__isnull=True))
                | (models.Q(case__isnull=True) & models.Q(person__isnull=False)),
                name="legalhold_case_or_person",
            ),
            models.CheckConstraint(condition=~models.Q(reason=""), name="legalhold_has_reason"),
            models.UniqueConstraint(
                fields=["case"], condition=models.Q(released_at__isnull=True), name="legalhold_one_per_case"
            ),
            models.UniqueConstraint(
                fields=["person"], condition=models.Q(released_at__isnull=True), name="legalhold_one_per_person"
            ),
        ]

    def __str__(self) -> str:
        target = f"case:{self.case_id}" if self.case_id else f"person:{self.person_id}"
        return f"{target} ({'解除' if self.released_at else '停止中'})"

    @property
    def is_active(self) -> bool:
        return self.released_at is None


class RetentionRun(models.Model):
    """One day's list of records past their retention period (the daily job), replaced when run again that day."""

    day = models.DateField(_("対象日"), unique=True)
    finished_at = models.DateTimeField(_("作成日時"), default=timezone.now)
    # {kind: count} of the listed candidates; held records are counted apart under "held".
    counts = models.JSONField(_("件数"), default=dict)

    class Meta:
        verbose_name = _("廃棄対象の確認")
        verbose_name_plural = _("廃棄対象の確認")
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"{self.day}"


class RetentionCandidate(models.Model):
    """One record due for disposal on the run's day: kind, id, reference number and dates; no personal data."""

    run = models.ForeignKey(RetentionRun, on_delete=models.CASCADE, related_name="candidates")
    kind = models.CharField(_("記録の種類"), max_length=40)
    object_id = models.PositiveBigIntegerField(_("対象ID"))
    reference = models.CharField(_("番号"), max_length=60, blank=True)
    anchor_on = models.DateField(_("起算日"))
    due_on = models.DateField(_("保存期間の満了日"))
    rule = models.ForeignKey(RetentionRule, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("廃棄対象")
        verbose_name_plural = _("廃棄対象")
        ordering = ["kind", "due_on", "object_id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "kind", "object_id"], name="retentioncandidate_once_per_run")
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.object_id}"


class DisposalDecision(models.Model):
    """A disposal proposed by one administrator and approved (then carried out) or rejected by another."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("承認待ち")
        APPROVED = "approved", _("承認・廃棄済み")
        REJECTED = "rejected", _("却下・取下げ")

    reason = models.CharField(_("廃棄の理由"), max_length=300)
    status = models.CharField(_("状態"), max_length=10, choices=Status.choices, default=Status.PROPOSED)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("起案者")
    )
    proposed_at = models.DateTimeField(_("起案日時"), default=timezone.now)
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

    class Meta:
        verbose_name = _("廃棄の決定")
        verbose_name_plural = _("廃棄の決定")
        ordering = ["-proposed_at", "-id"]
        constraints = [
            # Two persons: an approved disposal was decided by an administrator other than its proposer.
            models.CheckConstraint(
                condition=~models.Q(status="approved")
                | (models.Q(decided_by__isnull=False) & ~models.Q(decided_by=models.F("proposed_by"))),
                name="disposaldecision_two_persons",
            ),
            models.CheckConstraint(condition=~models.Q(reason=""), name="disposaldecision_has_reason"),
        ]

    def __str__(self) -> str:
        return f"廃棄の決定 #{self.pk}（{self.get_status_display()}）"


class DisposalItem(models.Model):
    """One record in a disposal decision, and what became of it when the decision was approved."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("承認待ち")
        DISPOSED = "disposed", _("廃棄済み")
        SKIPPED = "skipped", _("廃棄せず")

    decision = models.ForeignKey(DisposalDecision, on_delete=models.PROTECT, related_name="items")
    kind = models.CharField(_("記録の種類"), max_length=40)
    object_id = models.PositiveBigIntegerField(_("対象ID"))
    reference = models.CharField(_("番号"), max_length=60, blank=True)
    anchor_on = models.DateField(_("起算日"))
    rule = models.ForeignKey(RetentionRule, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(_("結果"), max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    # Why a record was not disposed after all (a hold, reopened, no longer past its period); never content.
    outcome_note = models.CharField(_("結果の説明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("廃棄の決定の対象")
        verbose_name_plural = _("廃棄の決定の対象")
        ordering = ["decision_id", "id"]
        constraints = [
            # A record waits in one proposal at a time.
            models.UniqueConstraint(
                fields=["kind", "object_id"],
                condition=models.Q(outcome="pending"),
                name="disposalitem_one_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.object_id} {self.outcome}"


class DisposalTombstone(models.Model):
    """What remains of a disposed record: its kind, id and number, when, by which decision, under which rule.

    No names, no content, no person ids: the access-log rows about the record stay for their own
    retention and still name the persons by id; this row says the record itself is gone and why.
    """

    kind = models.CharField(_("記録の種類"), max_length=40)
    object_id = models.PositiveBigIntegerField(_("対象ID"))
    reference = models.CharField(_("番号"), max_length=60, blank=True)
    anchor_on = models.DateField(_("起算日"))
    rule = models.ForeignKey(RetentionRule, on_delete=models.PROTECT, related_name="+", verbose_name=_("規則"))
    rule_years = models.PositiveSmallIntegerField(_("適用した保存期間（年）"))
    decision = models.ForeignKey(
        DisposalDecision, on_delete=models.PROTECT, related_name="tombstones", verbose_name=_("廃棄の決定")
    )
    disposed_at = models.DateTimeField(_("廃棄日時"), default=timezone.now)
    # {record type label: rows deleted}, e.g. {"支援経過記録": 12}; counts only.
    removed = models.JSONField(_("削除した記録の件数"), default=dict)

    class Meta:
        verbose_name = _("廃棄の記録")
        verbose_name_plural = _("廃棄の記録")
        ordering = ["-disposed_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["kind", "object_id"], name="disposaltombstone_once")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.object_id} {self.disposed_at:%Y-%m-%d}"
