"""The one clean-text rule and the one 和暦 date field every form uses."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.utils.translation import gettext_lazy as _

from core.japanese import format_wareki, is_case_number, normalize_case_number, parse_date

# NUL, other control characters (tab and newlines allowed), lone surrogates, and U+FFFD, which is
# what a browser's or a decoder's broken bytes turn into: none of them belongs in a record.
BAD_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffd]")
BAD_TEXT_MESSAGE = _("使用できない文字（制御文字・不正な文字コード）が含まれています。入力し直してください。")


def has_bad_text(value) -> bool:
    """Whether a value is text holding a character no record may keep."""
    return isinstance(value, str) and bool(BAD_TEXT.search(value))


def validate_clean_text(value) -> None:
    """Reject text holding NUL, control characters, lone surrogates or replacement characters."""
    if has_bad_text(value):
        raise ValidationError(BAD_TEXT_MESSAGE, code="bad_text")


def clean_text(value: str) -> str:
    """Return the text unchanged, or raise the clean-text ValidationError."""
    validate_clean_text(value)
    return value


class CleanTextMixin:
    """Every text field of the form rejects unusable characters with a Japanese message."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.CharField):
                field.validators = [
                    v for v in field.validators if not isinstance(v, ProhibitNullCharactersValidator)
                ] + [validate_clean_text]


class CleanTextForm(CleanTextMixin, forms.Form):
    """A plain form under the clean-text rule."""


class WarekiDateField(forms.CharField):
    """A date typed in 和暦 (令和元年5月1日, R1.5.1) or 西暦 (2019-05-01), full-width digits too; shown in 和暦."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault("help_text", _("例: 令和7年4月1日、R7.4.1、2025-04-01"))
        super().__init__(*args, **kwargs)
        # The cleaned value is a date: length validators apply to the text only (checked in to_python).
        self.validators = []

    def prepare_value(self, value):
        if hasattr(value, "year"):
            return format_wareki(value)
        return value

    def to_python(self, value):
        text = super().to_python(value)
        if not text:
            return None
        if has_bad_text(text):
            raise ValidationError(_("使用できない文字が含まれています。"), code="bad_text")
        if len(text) > 40:
            raise ValidationError(_("日付が長すぎます。"), code="max_length")
        try:
            return parse_date(text)
        except ValueError as exc:
            raise ValidationError(str(exc), code="invalid_date") from None

    def validate(self, value):
        if value in self.empty_values and self.required:
            raise ValidationError(self.error_messages["required"], code="required")


class CaseNumberField(forms.CharField):
    """A case number as people type it (Ｒ８－０００００７, R8-7, r8-7), cleaned to the stored form R8-000007."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault("help_text", _("例: R7-000123（R7-123、全角でも入力できます）"))
        super().__init__(*args, **kwargs)
        self.validators = [validate_clean_text]

    def to_python(self, value):
        text = super().to_python(value)
        if not text:
            return ""
        if has_bad_text(text):
            raise ValidationError(BAD_TEXT_MESSAGE, code="bad_text")
        if not is_case_number(text):
            raise ValidationError(_("ケース番号は「R7-000123」の形で入力してください。"), code="invalid_case_number")
        return normalize_case_number(text)
