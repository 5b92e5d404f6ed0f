"""Filter forms for the auditor's screens; malformed values become Japanese form errors."""

from datetime import date, datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from casework.audit.labels import object_type_choices
from casework.models import AccessLog, Organization
from core.forms import CaseNumberField, WarekiDateField

# The longest period one report may cover, so a typo cannot scan years of rows.
MAX_REPORT_DAYS = 366


class TextFilterField(forms.CharField):
    """A stripped text filter that names a NUL character plainly (Django's Japanese message does not)."""

    def to_python(self, value):
        value = super().to_python(value)
        if "\x00" in value:
            raise forms.ValidationError(_("使用できない文字（NUL文字）が含まれています。"))
        return value


def _blank_choice(choices) -> list:
    return [("", _("すべて")), *choices]


class DateRangeForm(forms.Form):
    """A period (inclusive), both ends optional."""

    date_from = WarekiDateField(label=_("期間（開始）"), required=False)
    date_to = WarekiDateField(label=_("期間（終了）"), required=False)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(_("期間の開始が終了より後になっています。"))
        return cleaned


class ReportRangeForm(DateRangeForm):
    """A report's period: required, at most a year."""

    date_from = WarekiDateField(label=_("期間（開始）"))
    date_to = WarekiDateField(label=_("期間（終了）"))

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and (end - start).days >= MAX_REPORT_DAYS:
            raise forms.ValidationError(_("期間は1年以内で指定してください。"))
        return cleaned


class LogFilterForm(DateRangeForm):
    """Filters of the access-log search; every field optional."""

    actor = TextFilterField(label=_("操作者（ログインID）"), required=False, max_length=150)
    organization = forms.ModelChoiceField(
        label=_("所属機関"), required=False, queryset=Organization.objects.order_by("kind", "name")
    )
    person = forms.IntegerField(label=_("対象者ID"), required=False, min_value=1, max_value=2**63 - 1)
    case_number = CaseNumberField(
        label=_("ケース番号"),
        required=False,
        help_text=_("ケースの画面・帳票を開いた記録を探します（例: R8-7、全角でも可）。"),
    )
    object_type = forms.ChoiceField(label=_("対象種別"), required=False, choices=())
    object_id = TextFilterField(label=_("対象ID"), required=False, max_length=40)
    action = forms.ChoiceField(label=_("操作"), required=False, choices=_blank_choice(AccessLog.Action.choices))
    outcome = forms.ChoiceField(label=_("結果"), required=False, choices=_blank_choice(AccessLog.Outcome.choices))
    basis = forms.ChoiceField(label=_("根拠"), required=False, choices=_blank_choice(AccessLog.Basis.choices))
    hide_own = forms.BooleanField(label=_("自分の操作（この監査画面の記録など）を除く"), required=False)
    # Keyset cursor "<at ISO>~<id>" of the last row on the previous page (no COUNT(*) needed).
    after = forms.CharField(required=False, widget=forms.HiddenInput, max_length=80)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["object_type"].choices = _blank_choice(object_type_choices())
        self.fields["object_type"].error_messages["invalid_choice"] = _("対象種別は一覧から選んでください。")

    def clean_object_id(self):
        value = self.cleaned_data["object_id"].strip()
        if value and not self.data.get("object_type", "").strip():
            raise forms.ValidationError(_("対象IDを指定するときは対象種別も指定してください。"))
        return value

    def clean_after(self):
        value = self.cleaned_data["after"]
        if not value:
            return None
        try:
            at_text, id_text = value.rsplit("~", 1)
            at = datetime.fromisoformat(at_text)
            row_id = int(id_text)
        except ValueError:
            raise forms.ValidationError(
                _("ページの指定が正しくありません。最初のページから表示し直してください。")
            ) from None
        if at.tzinfo is None or row_id < 1:
            raise forms.ValidationError(_("ページの指定が正しくありません。最初のページから表示し直してください。"))
        return at, row_id

    def has_filters(self) -> bool:
        """Whether any filter (not just the page cursor) was given."""
        return any(value not in (None, "") for name, value in self.cleaned_data.items() if name != "after")

    def describe(self) -> str:
        """Return the filters as one line, for the access-log row of the search or export itself."""
        parts = []
        for name, value in self.cleaned_data.items():
            if name == "after" or value in (None, ""):
                continue
            if isinstance(value, date):
                value = value.isoformat()
            elif isinstance(value, Organization):
                value = value.pk
            elif value is False:
                continue
            parts.append(f"{name}={value}")
        return " ".join(parts)


class ExportForm(LogFilterForm):
    """The search filters plus the file format."""

    FORMATS = [
        ("csv", _("CSV（UTF-8 BOM付き）")),
        ("csv_cp932", _("CSV（Shift_JIS / cp932）")),
        ("xlsx", _("Excel（XLSX）")),
    ]
    format = forms.ChoiceField(label=_("形式"), choices=FORMATS, initial="csv")


class PersonHistoryForm(DateRangeForm):
    """Whose history, optionally within a period."""

    person = forms.IntegerField(label=_("対象者ID"), min_value=1, max_value=2**63 - 1)
