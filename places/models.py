"""Community places (居場所), their schedules, attendance and import jobs."""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from casework.models import Organization
from core.japanese import search_key
from places.choices import WEEKDAY_CHOICES, Accommodation, AttendanceStatus, PlaceKind, TargetGroup
from places.schedules import format_schedule


class Place(models.Model):
    """A community place run by an operator organization; public directory data plus internal terms."""

    # Stable id from another directory or the operator's own spreadsheet (natural key on import).
    external_id = models.CharField(_("外部ID"), max_length=64, blank=True)
    operator = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="places", verbose_name=_("運営団体")
    )
    name = models.CharField(_("名称"), max_length=200)
    kind = models.CharField(_("種別"), max_length=30, choices=PlaceKind.choices)
    description = models.TextField(_("説明"), blank=True)
    postal_code = models.CharField(_("郵便番号"), max_length=10, blank=True)
    address = models.CharField(_("住所"), max_length=300, blank=True)
    area = models.CharField(_("地区"), max_length=50, blank=True)
    latitude = models.DecimalField(_("緯度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("経度"), max_digits=9, decimal_places=6, null=True, blank=True)
    capacity = models.PositiveIntegerField(_("定員"), null=True, blank=True)
    # Lists of TargetGroup / Accommodation codes and free activity tags (JSON works on SQLite and PostgreSQL).
    target_groups = models.JSONField(_("対象"), default=list, blank=True)
    activities = models.JSONField(_("活動・関心タグ"), default=list, blank=True)
    accommodations = models.JSONField(_("配慮・設備"), default=list, blank=True)
    min_age = models.PositiveSmallIntegerField(_("対象年齢（下限）"), null=True, blank=True)
    max_age = models.PositiveSmallIntegerField(_("対象年齢（上限）"), null=True, blank=True)
    cost = models.CharField(_("費用"), max_length=100, blank=True)
    accepts_referrals = models.BooleanField(_("参加支援の受け入れ"), default=False)
    pledge_signed_on = models.DateField(_("守秘義務の誓約書提出日"), null=True, blank=True)
    # Internal: never exported to HSDS.
    honorarium_terms = models.CharField(_("謝金の条件"), max_length=200, blank=True)
    contact_name = models.CharField(_("連絡先（担当者）"), max_length=100, blank=True)
    # Internal unless the operator marks it public: often a staff member's own phone or mailbox.
    contact_phone = models.CharField(_("電話番号"), max_length=30, blank=True)
    contact_phone_public = models.BooleanField(_("電話番号を公開する"), default=False)
    contact_email = models.EmailField(_("メールアドレス"), blank=True)
    contact_email_public = models.BooleanField(_("メールアドレスを公開する"), default=False)
    is_active = models.BooleanField(_("活動中"), default=True)
    # Folded text of name, area, address and tags for the directory's keyword search.
    search_text = models.TextField(editable=False, blank=True)
    created_at = models.DateTimeField(_("登録日時"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    class Meta:
        verbose_name = _("居場所")
        verbose_name_plural = _("居場所")
        ordering = ["area", "name", "id"]
        constraints = [
            # The natural key of an import row without an external id.
            models.UniqueConstraint(fields=["operator", "name"], name="place_operator_name_unique"),
            models.UniqueConstraint(
                fields=["external_id"], condition=~Q(external_id=""), name="place_external_id_unique"
            ),
            models.CheckConstraint(
                condition=Q(min_age__isnull=True) | Q(max_age__isnull=True) | Q(min_age__lte=models.F("max_age")),
                name="place_age_range_ordered",
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="place_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="place_longitude_range",
            ),
        ]
        indexes = [
            # Directory filters: active places by area and kind; matching: active places accepting referrals.
            models.Index(fields=["is_active", "area", "kind"], name="place_active_area_kind_idx"),
            models.Index(fields=["is_active", "accepts_referrals"], name="place_active_referrals_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.search_text = self.build_search_text()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_text"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("places:detail", args=[self.pk])

    def clean(self):
        errors = {}
        unknown = [c for c in self.target_groups or [] if c not in TargetGroup.values]
        if unknown:
            errors["target_groups"] = _("不明な対象があります: %(codes)s") % {"codes": "、".join(unknown)}
        unknown = [c for c in self.accommodations or [] if c not in Accommodation.values]
        if unknown:
            errors["accommodations"] = _("不明な配慮があります: %(codes)s") % {"codes": "、".join(unknown)}
        if self.min_age is not None and self.max_age is not None and self.min_age > self.max_age:
            errors["max_age"] = _("対象年齢の上限が下限より小さくなっています。")
        if errors:
            raise ValidationError(errors)

    def build_search_text(self) -> str:
        """Return the keyword-search text (folded so 髙橋 finds 高橋, ｶﾌｪ finds カフェ)."""

        parts = [self.name, self.area, self.address, self.description, *(self.activities or [])]
        return " ".join(search_key(p) for p in parts if p)

    @property
    def public_phone(self) -> str:
        """Return the phone number the operator chose to publish (HSDS), else ""."""
        return self.contact_phone if self.contact_phone_public else ""

    @property
    def public_email(self) -> str:
        """Return the e-mail address the operator chose to publish (HSDS), else ""."""
        return self.contact_email if self.contact_email_public else ""

    @property
    def target_group_labels(self) -> list[str]:
        return [str(TargetGroup(c).label) for c in self.target_groups or [] if c in TargetGroup.values]

    @property
    def accommodation_labels(self) -> list[str]:
        return [str(Accommodation(c).label) for c in self.accommodations or [] if c in Accommodation.values]

    @property
    def schedule_text(self) -> str:
        """All schedules as one cell, e.g. 「毎週水曜 10:00〜12:00、第2・第4土曜 11:00〜14:00」."""
        return "、".join(s.display for s in self.schedules.all())

    @property
    def age_text(self) -> str:
        if self.min_age is None and self.max_age is None:
            return ""
        low = "" if self.min_age is None else f"{self.min_age}歳"
        high = "" if self.max_age is None else f"{self.max_age}歳"
        return f"{low}〜{high}"


class PlaceSchedule(models.Model):
    """A recurring opening: weekday and times, every week or on given weeks of the month."""

    place = models.ForeignKey(Place, on_delete=models.CASCADE, related_name="schedules", verbose_name=_("居場所"))
    weekday = models.PositiveSmallIntegerField(_("曜日"), choices=WEEKDAY_CHOICES)
    # e.g. [2, 4] for 第2・第4; empty for every week.
    weeks_of_month = models.JSONField(_("第何週"), default=list, blank=True)
    start_time = models.TimeField(_("開始"))
    end_time = models.TimeField(_("終了"))
    note = models.CharField(_("備考"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("開催日時")
        verbose_name_plural = _("開催日時")
        ordering = ["weekday", "start_time", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="placeschedule_weekday_range"),
            models.CheckConstraint(condition=Q(end_time__gt=models.F("start_time")), name="placeschedule_end_after"),
        ]

    def __str__(self) -> str:
        return self.display

    def clean(self):
        weeks = self.weeks_of_month or []
        if not isinstance(weeks, list) or any(not isinstance(w, int) or not 1 <= w <= 5 for w in weeks):
            raise ValidationError({"weeks_of_month": _("第何週は1〜5の数字で指定してください。")})

    @property
    def display(self) -> str:
        return format_schedule(self.weekday, list(self.weeks_of_month or []), self.start_time, self.end_time)


class Attendance(models.Model):
    """One participant's attendance at a place on one day, with a short note for the referring worker.

    The participant is an opaque reference supplied by the referrals app (e.g. "referral:12"),
    so this app never holds case or person data.
    """

    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="attendances", verbose_name=_("居場所"))
    participant_ref = models.CharField(_("参加者の参照"), max_length=60)
    participant_label = models.CharField(_("参加者（呼び名）"), max_length=100)
    on = models.DateField(_("日付"))
    status = models.CharField(_("出欠"), max_length=20, choices=AttendanceStatus.choices)
    hours = models.DecimalField(_("時間"), max_digits=4, decimal_places=1, null=True, blank=True)
    note = models.CharField(_("ひとこと（紹介元へ）"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("記録者")
    )
    recorded_at = models.DateTimeField(_("記録日時"), auto_now=True)

    class Meta:
        verbose_name = _("出欠")
        verbose_name_plural = _("出欠")
        ordering = ["-on", "participant_label", "id"]
        constraints = [
            models.UniqueConstraint(fields=["place", "participant_ref", "on"], name="attendance_one_per_day"),
            models.CheckConstraint(
                condition=Q(hours__isnull=True) | Q(hours__gte=0, hours__lte=24), name="attendance_hours_range"
            ),
        ]
        indexes = [
            # attendance_for(participant_ref): a referral's attendance history.
            models.Index(fields=["participant_ref", "on"], name="attendance_participant_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.on} {self.participant_label} {self.get_status_display()}"


class PlaceImportJob(models.Model):
    """An uploaded places file: its dry-run report, then its atomic application, with progress.

    The random id is the token in the job's URL; only the uploader may see or confirm it.
    """

    class Status(models.TextChoices):
        CHECKING = "checking", _("確認中")
        CHECKED = "checked", _("確認済み（未反映）")
        APPLYING = "applying", _("反映中")
        DONE = "done", _("反映完了")
        FAILED = "failed", _("失敗（変更なし）")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("取込者")
    )
    # Set for operator staff: every row must belong to this organization.
    operator = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("運営団体")
    )
    file_name = models.CharField(_("ファイル名"), max_length=255)
    file_format = models.CharField(_("形式"), max_length=10)
    encoding = models.CharField(_("文字コード"), max_length=20, default="auto")
    status = models.CharField(_("状態"), max_length=20, choices=Status.choices, default=Status.CHECKING)
    total = models.PositiveIntegerField(_("行数"), default=0)
    processed = models.PositiveIntegerField(_("処理済み"), default=0)
    created = models.PositiveIntegerField(_("新規"), default=0)
    updated = models.PositiveIntegerField(_("更新"), default=0)
    unchanged = models.PositiveIntegerField(_("変更なし"), default=0)
    errors = models.PositiveIntegerField(_("エラー"), default=0)
    # File-level problem (encoding, header) or the reason an application failed.
    message = models.TextField(_("メッセージ"), blank=True)
    # [{"row": n, "type": "new|update|skip|error", "name": str, "errors": [str]}]
    report = models.JSONField(_("行ごとの結果"), default=list, blank=True)
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完了日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("居場所の取り込み")
        verbose_name_plural = _("居場所の取り込み")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        return reverse("places:import_job", args=[self.pk])

    @property
    def is_running(self) -> bool:
        return self.status in {self.Status.CHECKING, self.Status.APPLYING}

    @property
    def percent(self) -> int:
        return int(self.processed * 100 / self.total) if self.total else 0
