"""Forms of the places app (Japanese labels and messages)."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from casework.models import Organization
from core.forms import WarekiDateField, clean_text
from places.choices import WEEKDAY_CHOICES, Accommodation, AttendanceStatus, PlaceKind, TargetGroup
from places.imports import MAX_UPLOAD_BYTES
from places.models import Place
from places.schedules import parse_schedules

_LIST_SPLIT = re.compile(r"\s*[、,，;；]\s*")


class PlaceForm(forms.ModelForm):
    """Create or edit a place; schedules and tags are typed the same way as in the import file."""

    schedule_text = forms.CharField(
        label=_("開催日時"),
        required=False,
        max_length=500,
        help_text=_("例:「毎週水曜 10:00-12:00」「第2・第4土曜 11:00～14:00」。複数は「、」で区切ります。"),
    )
    target_groups = forms.MultipleChoiceField(
        label=_("対象"), choices=TargetGroup.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    accommodations = forms.MultipleChoiceField(
        label=_("配慮・設備"), choices=Accommodation.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    activities_text = forms.CharField(
        label=_("活動・関心タグ"),
        required=False,
        max_length=500,
        help_text=_("「、」で区切って入力します（例: 料理、手芸、囲碁）。"),
    )
    pledge_signed_on = WarekiDateField(label=_("守秘義務の誓約書提出日"), required=False)

    class Meta:
        model = Place
        fields = [
            "operator",
            "external_id",
            "name",
            "kind",
            "description",
            "postal_code",
            "address",
            "area",
            "latitude",
            "longitude",
            "capacity",
            "min_age",
            "max_age",
            "cost",
            "accepts_referrals",
            "pledge_signed_on",
            "honorarium_terms",
            "contact_name",
            "contact_phone",
            "contact_phone_public",
            "contact_email",
            "contact_email_public",
            "is_active",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}
        help_texts = {
            "contact_phone_public": _(
                "チェックすると公開データ（HSDS）に載ります。しないときは職員の画面にだけ表示します。"
            ),
            "contact_email_public": _(
                "チェックすると公開データ（HSDS）に載ります。しないときは職員の画面にだけ表示します。"
            ),
        }

    def __init__(self, *args, operators, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["operator"].queryset = Organization.objects.filter(pk__in=[o.pk for o in operators])
        if len(operators) == 1 and not self.instance.pk:
            self.fields["operator"].initial = operators[0].pk
        if self.instance.pk:
            self.fields["schedule_text"].initial = self.instance.schedule_text
            self.fields["activities_text"].initial = "、".join(self.instance.activities or [])
            self.fields["target_groups"].initial = self.instance.target_groups
            self.fields["accommodations"].initial = self.instance.accommodations
        self.schedules = None

    def clean(self):
        cleaned = super().clean()
        # A copy: add_error() removes the field from cleaned_data, which broke this loop (a 500).
        for name, value in list(cleaned.items()):
            if isinstance(value, str):
                try:
                    clean_text(value)
                except ValidationError as error:
                    self.add_error(name, error)
        return cleaned

    def clean_schedule_text(self):
        text = self.cleaned_data["schedule_text"]
        try:
            self.schedules = parse_schedules(text)
        except ValueError as error:
            raise ValidationError(str(error)) from None
        return text

    def clean_activities_text(self):
        text = clean_text(self.cleaned_data["activities_text"])
        tags = []
        for part in _LIST_SPLIT.split(text.strip()):
            if part and part not in tags:
                if len(part) > 50:
                    raise ValidationError(_("タグは50文字以内にしてください。"))
                tags.append(part)
        return tags

    def _post_clean(self):
        self.instance.target_groups = self.cleaned_data.get("target_groups", [])
        self.instance.accommodations = self.cleaned_data.get("accommodations", [])
        self.instance.activities = self.cleaned_data.get("activities_text", [])
        super()._post_clean()


class DirectoryFilterForm(forms.Form):
    q = forms.CharField(label=_("キーワード"), required=False, max_length=100)
    area = forms.ChoiceField(label=_("地区"), required=False)
    kind = forms.ChoiceField(label=_("種別"), required=False, choices=[("", _("すべて")), *PlaceKind.choices])
    weekday = forms.TypedChoiceField(
        label=_("曜日"), required=False, coerce=int, empty_value=None, choices=[("", _("すべて")), *WEEKDAY_CHOICES]
    )
    target = forms.ChoiceField(label=_("対象"), required=False, choices=[("", _("すべて")), *TargetGroup.choices])
    accommodation = forms.ChoiceField(
        label=_("配慮"), required=False, choices=[("", _("すべて")), *Accommodation.choices]
    )
    accepts_referrals = forms.BooleanField(label=_("参加支援を受け入れる"), required=False)

    def __init__(self, *args, areas: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = [("", _("すべて")), *((a, a) for a in areas)]

    def clean_q(self):
        return clean_text(self.cleaned_data["q"])


class MatchForm(forms.Form):
    interests = forms.CharField(
        label=_("やってみたいこと・関心"),
        required=False,
        max_length=200,
        help_text=_("「、」で区切って入力します（例: 料理、手芸）。"),
    )
    area = forms.ChoiceField(label=_("地区"), required=False)
    weekdays = forms.TypedMultipleChoiceField(
        label=_("参加できる曜日"),
        required=False,
        coerce=int,
        choices=WEEKDAY_CHOICES,
        widget=forms.CheckboxSelectMultiple,
    )
    time_from = forms.TimeField(
        label=_("時間帯（から）"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    time_to = forms.TimeField(label=_("時間帯（まで）"), required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    accommodations = forms.MultipleChoiceField(
        label=_("必要な配慮"), required=False, choices=Accommodation.choices, widget=forms.CheckboxSelectMultiple
    )
    age = forms.IntegerField(label=_("年齢"), required=False, min_value=0, max_value=130)

    def __init__(self, *args, areas: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = [("", _("指定しない")), *((a, a) for a in areas)]

    def clean_interests(self):
        text = clean_text(self.cleaned_data["interests"])
        return [part for part in _LIST_SPLIT.split(text.strip()) if part]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("time_from"), cleaned.get("time_to")
        if start and end and end <= start:
            self.add_error("time_to", _("終わりの時刻は始まりの時刻より後にしてください。"))
        return cleaned


class ImportForm(forms.Form):
    file = forms.FileField(label=_("ファイル（CSV または XLSX）"))
    encoding = forms.ChoiceField(
        label=_("文字コード（CSV）"),
        choices=[("auto", _("自動判定（UTF-8 / cp932）")), ("utf-8", "UTF-8"), ("cp932", _("cp932（Excel のCSV）"))],
        initial="auto",
    )

    def clean_file(self):

        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".xlsx", ".txt")):
            raise ValidationError(_("CSV（.csv）または Excel（.xlsx）ファイルを選んでください。"))
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(_("ファイルが大きすぎます（20MBまで）。"))
        return upload


class ExportForm(forms.Form):
    file_format = forms.ChoiceField(label=_("形式"), choices=[("csv", "CSV"), ("xlsx", "Excel（XLSX）")], initial="csv")
    encoding = forms.ChoiceField(
        label=_("文字コード（CSV）"),
        choices=[("utf-8-sig", _("UTF-8（BOM付き・推奨）")), ("cp932", _("cp932（古いExcel向け）"))],
        initial="utf-8-sig",
    )


class AttendanceForm(forms.Form):
    participant_ref = forms.CharField(label=_("参加者"), max_length=60, widget=forms.Select)
    on = WarekiDateField(label=_("日付"))
    status = forms.ChoiceField(label=_("出欠"), choices=AttendanceStatus.choices, widget=forms.RadioSelect)
    hours = forms.DecimalField(label=_("時間"), required=False, min_value=0, max_value=24, decimal_places=1)
    note = forms.CharField(label=_("ひとこと（紹介元へ）"), required=False, max_length=200)
    replace = forms.BooleanField(
        label=_("この日の記録を書き換える"),
        required=False,
        help_text=_("同じ日の出欠がすでにあるときだけ。前の記録とひとことは置き換わります。"),
    )

    def __init__(self, *args, participants: list[tuple[str, str]], refusals: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.participants = dict(participants)
        self.refusals = refusals or {}
        self.fields["participant_ref"].widget.choices = participants

    def clean_participant_ref(self):
        ref = self.cleaned_data["participant_ref"]
        if ref in self.participants:
            return ref
        # A participant the place had, whose card it may no longer see (or who cannot be recorded now).
        raise ValidationError(self.refusals.get(ref) or _("一覧から参加者を選んでください。"))

    def clean_note(self):
        return clean_text(self.cleaned_data["note"])

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("status") and cleaned["status"] != AttendanceStatus.ATTENDED and cleaned.get("hours"):
            self.add_error("hours", _("参加しなかった日に時間は記録できません。"))
        return cleaned


class AttendanceSessionForm(forms.Form):
    """One session (a day) at the place: a row per participant, recorded in one go."""

    on = WarekiDateField(label=_("日付"))
    replace = forms.BooleanField(
        label=_("この日の記録を書き換える"),
        required=False,
        help_text=_("この日の出欠がすでにある参加者の記録を、下の内容で置き換えます。"),
    )

    def __init__(self, *args, participants: list[tuple[str, str]], existing: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.participants = dict(participants)
        self.rows = []
        existing = existing or {}
        for index, (ref, label) in enumerate(participants):
            earlier = existing.get(ref)
            status = forms.ChoiceField(
                label=_("%(name)sの出欠") % {"name": label},
                choices=[("", _("―（記録しない）")), *AttendanceStatus.choices],
                required=False,
                initial=earlier.status if earlier else "",
            )
            hours = forms.DecimalField(
                label=_("時間"),
                required=False,
                min_value=0,
                max_value=24,
                decimal_places=1,
                initial=earlier.hours if earlier else None,
            )
            note = forms.CharField(
                label=_("ひとこと"), required=False, max_length=200, initial=earlier.note if earlier else ""
            )
            self.fields[f"status_{index}"], self.fields[f"hours_{index}"], self.fields[f"note_{index}"] = (
                status,
                hours,
                note,
            )
            self.rows.append((ref, label, earlier, f"status_{index}", f"hours_{index}", f"note_{index}"))

    def clean(self):
        cleaned = super().clean()
        for _ref, _label, _earlier, status, hours, note in self.rows:
            if cleaned.get(note):
                try:
                    cleaned[note] = clean_text(cleaned[note])
                except ValidationError as error:
                    self.add_error(note, error)
            if cleaned.get(hours) and cleaned.get(status) != AttendanceStatus.ATTENDED:
                self.add_error(hours, _("参加しなかった日に時間は記録できません。"))
        if not self.errors and not any(cleaned.get(row[3]) for row in self.rows):
            raise ValidationError(_("出欠を記録する参加者を一人以上選んでください。"))
        return cleaned

    def bound_rows(self):
        """(label, the earlier record, status, hours and note bound fields) per participant, for the table."""
        return [(label, earlier, self[s], self[h], self[n]) for _ref, label, earlier, s, h, n in self.rows]

    def entries(self) -> list[dict]:
        return [
            {
                "participant_ref": ref,
                "status": self.cleaned_data[s],
                "hours": self.cleaned_data[h],
                "note": self.cleaned_data[n] or "",
            }
            for ref, _label, _earlier, s, h, n in self.rows
            if self.cleaned_data.get(s)
        ]
