"""Case migration from another system's export: remembered column mappings, runs and provenance."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class MigrationSource(models.Model):
    """An older system or spreadsheet the city migrates from, with the column mapping last used for it."""

    name = models.CharField(_("移行元の名称"), max_length=100, unique=True)
    # {field code: the file's column header}; the next file from the same source starts from it.
    column_map = models.JSONField(_("列の対応"), default=dict, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    class Meta:
        verbose_name = _("移行元")
        verbose_name_plural = _("移行元")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MigrationRun(models.Model):
    """One uploaded file's way through mapping, dry run and the all-or-nothing apply (the import history)."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("列の対応づけ待ち")
        CHECKED = "checked", _("確認済み（未反映）")
        FAILED = "failed", _("エラーあり（未反映）")
        APPLIED = "applied", _("反映済み")
        CANCELLED = "cancelled", _("取り消し")

    source = models.ForeignKey(MigrationSource, on_delete=models.PROTECT, related_name="runs", verbose_name=_("移行元"))
    file_format = models.CharField(_("形式"), max_length=10)
    encoding = models.CharField(_("文字コード"), max_length=20, blank=True)
    # The file's digest, not its name: an old system's export is often named after a person.
    file_sha256 = models.CharField(_("ファイルのハッシュ"), max_length=64)
    headers = models.JSONField(_("見出し"), default=list, blank=True)
    column_map = models.JSONField(_("列の対応"), default=dict, blank=True)
    status = models.CharField(_("状態"), max_length=20, choices=Status.choices, default=Status.UPLOADED)
    row_count = models.PositiveIntegerField(_("行数"), default=0)
    # {kind: {"new": n, "unchanged": n}} and [{row, column, message}] — never a cell's content.
    counts = models.JSONField(_("件数"), default=dict, blank=True)
    problems = models.JSONField(_("エラー"), default=list, blank=True)
    warnings = models.JSONField(_("注意"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("実施者")
    )
    created_at = models.DateTimeField(_("登録日時"), default=timezone.now)
    checked_at = models.DateTimeField(_("確認日時"), null=True, blank=True)
    applied_at = models.DateTimeField(_("反映日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("移行の実行")
        verbose_name_plural = _("移行の実行")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.source} #{self.pk} {self.get_status_display()}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("casework:migration_run", args=[self.pk])

    @property
    def problem_count(self) -> int:
        return len(self.problems or [])


class MigrationRecord(models.Model):
    """Which record a source's own key became, from which run and row: provenance and idempotency."""

    class Kind(models.TextChoices):
        HOUSEHOLD = "household", _("世帯")
        PERSON = "person", _("本人・世帯員")
        CASE = "case", _("ケース")
        CONSENT = "consent", _("同意")
        CONTACT = "contact", _("支援経過記録")

    source = models.ForeignKey(
        MigrationSource, on_delete=models.PROTECT, related_name="records", verbose_name=_("移行元")
    )
    kind = models.CharField(_("種別"), max_length=20, choices=Kind.choices)
    source_key = models.CharField(_("移行元のキー"), max_length=200)
    object_id = models.PositiveBigIntegerField(_("登録したレコードのID"))
    run = models.ForeignKey(MigrationRun, on_delete=models.PROTECT, related_name="records", verbose_name=_("実行"))
    row_number = models.PositiveIntegerField(_("行番号"))
    # What the source said that has no field of its own here (e.g. the explainer's name in the old system).
    note = models.CharField(_("移行元の記載"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("移行したレコード")
        verbose_name_plural = _("移行したレコード")
        constraints = [
            models.UniqueConstraint(fields=["source", "kind", "source_key"], name="migrationrecord_key_unique"),
        ]
        indexes = [
            # "Where did this record come from": the case and person pages' provenance line.
            models.Index(fields=["kind", "object_id"], name="migrationrecord_object_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.get_kind_display()} {self.source_key}"
