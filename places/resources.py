"""django-import-export resource for places: Japanese headers, natural key, formula-safe export."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db.models import TextChoices
from import_export import fields, resources, widgets

from casework.models import Organization
from core.japanese import parse_date
from core.spreadsheets import neutralise_formula
from places.choices import Accommodation, PlaceKind, TargetGroup, label_to_code
from places.models import Place, PlaceSchedule
from places.schedules import ScheduleSpec, parse_schedules, schedule_order

_LIST_SPLIT = re.compile(r"\s*[、,，;；/／]\s*")
_TRUE = {"はい", "○", "〇", "可", "有", "あり", "1", "true", "yes", "TRUE", "True"}
_FALSE = {"いいえ", "×", "不可", "無", "なし", "0", "false", "no", "FALSE", "False", ""}


def _text(value) -> str:
    return "" if value is None else str(value).strip()


class TextWidget(widgets.Widget):
    """Plain text kept exactly as typed (only surrounding spaces dropped), with a length limit."""

    def __init__(self, max_length: int | None = None):
        super().__init__()
        self.max_length = max_length

    def clean(self, value, row=None, **kwargs):
        text = _text(value)
        if "\x00" in text:
            raise ValueError("使用できない文字（NUL）が含まれています")
        if self.max_length and len(text) > self.max_length:
            raise ValueError(f"{self.max_length}文字以内で入力してください（{len(text)}文字）")
        return text

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(value)


class ChoiceWidget(widgets.Widget):
    """One choice, written and read by its Japanese label (the code is accepted too)."""

    def __init__(self, choices: type[TextChoices]):
        super().__init__()
        self.choices = choices

    def clean(self, value, row=None, **kwargs):
        text = _text(value)
        code = label_to_code(self.choices, text)
        if code is None:
            allowed = "、".join(str(label) for label in self.choices.labels)
            raise ValueError(f"「{text}」は選べません（{allowed}）")
        return code

    def render(self, value, obj=None, **kwargs):
        return str(self.choices(value).label) if value in self.choices.values else (value or "")


class ChoiceListWidget(ChoiceWidget):
    """Several choices in one cell, separated by 「、」."""

    def clean(self, value, row=None, **kwargs):
        codes: list[str] = []
        for part in _LIST_SPLIT.split(_text(value)):
            if part:
                code = super().clean(part)
                if code not in codes:
                    codes.append(code)
        return codes

    def render(self, value, obj=None, **kwargs):
        return "、".join(super(ChoiceListWidget, self).render(code) for code in value or [])


class TagListWidget(widgets.Widget):
    """Free tags in one cell, separated by 「、」, kept as typed and in order."""

    def clean(self, value, row=None, **kwargs):
        tags: list[str] = []
        for part in _LIST_SPLIT.split(_text(value)):
            if len(part) > 50:
                raise ValueError(f"タグは50文字以内にしてください:「{part[:20]}…」")
            if part and part not in tags:
                tags.append(part)
        return tags

    def render(self, value, obj=None, **kwargs):
        return "、".join(value or [])


class BooleanJaWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        text = _text(value)
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(f"「{text}」は はい／いいえ で入力してください")

    def render(self, value, obj=None, **kwargs):
        return "はい" if value else "いいえ"


class ActiveWidget(BooleanJaWidget):
    """Like BooleanJaWidget, but an empty cell means active."""

    def clean(self, value, row=None, **kwargs):
        return True if _text(value) == "" else super().clean(value, row, **kwargs)


class DateJaWidget(widgets.Widget):
    """A date in 西暦 or 和暦 (令和7年4月1日, R7.4.1, 2025/04/01)."""

    def clean(self, value, row=None, **kwargs):
        text = _text(value)
        if not text:
            return None
        if isinstance(value, date):
            return value
        return parse_date(text)

    def render(self, value, obj=None, **kwargs):
        return value.isoformat() if value else ""


class NumberWidget(widgets.Widget):
    """A whole number (or a decimal when places is given) within limits; empty means none."""

    def __init__(self, *, places: int = 0, minimum=None, maximum=None):
        super().__init__()
        self.places, self.minimum, self.maximum = places, minimum, maximum

    def clean(self, value, row=None, **kwargs):
        text = _text(value).replace(",", "")
        if not text:
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"「{text}」は数値ではありません") from None
        if not number.is_finite():
            raise ValueError(f"「{text}」は数値ではありません")
        if self.places == 0:
            if number != number.to_integral_value():
                raise ValueError(f"「{text}」は整数で入力してください")
            number = int(number)
        else:
            number = round(number, self.places)
        if (self.minimum is not None and number < self.minimum) or (self.maximum is not None and number > self.maximum):
            raise ValueError(f"「{text}」は{self.minimum}〜{self.maximum}の範囲で入力してください")
        return number

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(value)


class OperatorWidget(widgets.Widget):
    """The operator organization by its exact name (looked up once per import)."""

    def __init__(self):
        super().__init__()
        self._by_name: dict[str, Organization] | None = None

    def clean(self, value, row=None, **kwargs):
        name = _text(value)
        if not name:
            raise ValueError("運営団体を入力してください")
        if self._by_name is None:
            self._by_name = {org.name: org for org in Organization.objects.filter(is_active=True)}
        org = self._by_name.get(name)
        if org is None:
            raise ValueError(f"運営団体「{name}」が登録されていません（機関・団体の正式名称で入力してください）")
        return org

    def render(self, value, obj=None, **kwargs):
        return value.name if value else ""


FIELD_ORDER = [
    "external_id",
    "operator",
    "name",
    "kind",
    "description",
    "postal_code",
    "address",
    "area",
    "latitude",
    "longitude",
    "schedules",
    "capacity",
    "target_groups",
    "activities",
    "accommodations",
    "min_age",
    "max_age",
    "cost",
    "accepts_referrals",
    "pledge_signed_on",
    "honorarium_terms",
    "contact_name",
    "contact_phone",
    "contact_email",
    "is_active",
]


class ScheduleField(fields.Field):
    """The 開催日時 cell: parsed into PlaceSchedule rows, compared and written as display text."""

    def save(self, instance, row, is_m2m=False, **kwargs):
        text = _text(row[self.column_name])
        instance._pending_schedules = parse_schedules(text)

    def get_value(self, instance):
        pending = getattr(instance, "_pending_schedules", None)
        if pending is not None:
            # In the order the place's schedules are kept, so the same slots in another order are no change.
            return "、".join(spec.display() for spec in sorted(pending, key=schedule_order))
        if instance.pk is None:
            return ""
        return instance.schedule_text


def _field(attribute: str, header: str, widget: widgets.Widget) -> fields.Field:
    return fields.Field(attribute=attribute, column_name=header, widget=widget)


class PlaceResource(resources.ModelResource):
    """Import and export places with Japanese headers.

    Natural key: the 外部ID column when a row has one, otherwise 運営団体 + 名称, so importing the
    same file twice changes nothing the second time (unchanged rows are reported as skipped).
    With ``operator`` given (operator staff), every row belongs to that organization: a different
    運営団体 or an existing place of another operator is a row error.
    """

    external_id = _field("external_id", "外部ID", TextWidget(64))
    operator = _field("operator", "運営団体", OperatorWidget())
    name = _field("name", "名称", TextWidget(200))
    kind = _field("kind", "種別", ChoiceWidget(PlaceKind))
    description = _field("description", "説明", TextWidget(5000))
    postal_code = _field("postal_code", "郵便番号", TextWidget(10))
    address = _field("address", "住所", TextWidget(300))
    area = _field("area", "地区", TextWidget(50))
    latitude = _field("latitude", "緯度", NumberWidget(places=6, minimum=-90, maximum=90))
    longitude = _field("longitude", "経度", NumberWidget(places=6, minimum=-180, maximum=180))
    schedules = ScheduleField(attribute="schedules", column_name="開催日時")
    capacity = _field("capacity", "定員", NumberWidget(minimum=0, maximum=100000))
    target_groups = _field("target_groups", "対象", ChoiceListWidget(TargetGroup))
    activities = _field("activities", "活動", TagListWidget())
    accommodations = _field("accommodations", "配慮", ChoiceListWidget(Accommodation))
    min_age = _field("min_age", "対象年齢下限", NumberWidget(minimum=0, maximum=130))
    max_age = _field("max_age", "対象年齢上限", NumberWidget(minimum=0, maximum=130))
    cost = _field("cost", "費用", TextWidget(100))
    accepts_referrals = _field("accepts_referrals", "参加支援の受入", BooleanJaWidget())
    pledge_signed_on = _field("pledge_signed_on", "誓約書提出日", DateJaWidget())
    honorarium_terms = _field("honorarium_terms", "謝金", TextWidget(200))
    contact_name = _field("contact_name", "担当者", TextWidget(100))
    contact_phone = _field("contact_phone", "電話番号", TextWidget(30))
    contact_email = _field("contact_email", "メール", TextWidget(254))
    is_active = _field("is_active", "活動中", ActiveWidget())

    class Meta:
        model = Place
        fields = FIELD_ORDER
        export_order = FIELD_ORDER
        import_order = FIELD_ORDER
        import_id_fields = ["id"]  # unused: get_instance below implements the natural key
        skip_unchanged = True
        report_skipped = True
        skip_html_diff = True
        clean_model_instances = True
        use_transactions = True
        # Rows are saved in batches: one INSERT or UPDATE per 500 places instead of four statements a row
        # (10,000 places in seconds, BENCHMARKS.md). Schedules follow in after_import.
        use_bulk = True
        batch_size = 500

    def __init__(
        self, *, operator: Organization | None = None, progress: Callable[[int], None] | None = None, **kwargs
    ):
        super().__init__(**kwargs)
        self.forced_operator = operator
        self.progress = progress
        # The spreadsheet row number of each dataset row (header is row 1; blank rows skipped).
        self.row_numbers: list[int] = []
        self._current_row_number = 0
        self._existing: dict[tuple[int, str], Place] = {}
        self._by_external_id: dict[str, Place] = {}
        self._seen_keys: dict[tuple, int] = {}
        # (place, parsed schedules) of every saved row; written once the places have ids.
        self._schedules_to_write: list[tuple[Place, list[ScheduleSpec]]] = []

    def get_queryset(self):
        return Place.objects.select_related("operator").prefetch_related("schedules").order_by("id")

    # -- import ---------------------------------------------------------------

    def before_import(self, dataset, **kwargs):
        """Load existing places once, keyed both ways, instead of one query per row."""
        for place in self.get_queryset():
            self._existing[(place.operator_id, place.name)] = place
            if place.external_id:
                self._by_external_id[place.external_id] = place

    def before_import_row(self, row, **kwargs):
        if self.forced_operator is not None:
            given = _text(row.get("運営団体"))
            if given and given != self.forced_operator.name:
                raise ValueError(f"他の団体（{given}）の居場所は取り込めません。自団体の居場所だけ登録できます")
            row["運営団体"] = self.forced_operator.name

    def _other_problems(self, row, *, skip: set[str]) -> list[str]:
        """Every other cell's problem in the row, so one upload shows them all (not the first only)."""
        problems = []
        for field in self.get_import_fields():
            if field.column_name in skip or field.column_name not in row:
                continue
            try:
                if isinstance(field, ScheduleField):
                    parse_schedules(_text(row[field.column_name]))
                else:
                    field.clean(row)
            except (ValueError, ValidationError) as error:
                text = "; ".join(error.messages) if isinstance(error, ValidationError) else str(error)
                problems.append(f"{field.column_name}: {text}")
        return problems

    def get_instance(self, instance_loader, row):
        name = _text(row.get("名称"))
        problems = [] if name else ["名称を入力してください"]
        try:
            operator = self.fields["operator"].clean(row)
        except ValueError as error:
            problems.append(f"運営団体: {error}")
            operator = None
        if problems:
            raise RowProblems(problems + self._other_problems(row, skip={"名称", "運営団体"}))
        external_id = _text(row.get("外部ID"))
        key = ("ext", external_id) if external_id else ("name", operator.pk, name)
        if key in self._seen_keys:
            raise ValueError(f"同じ居場所がファイルの{self._seen_keys[key]}行目にもあります")
        self._seen_keys[key] = self._current_row_number
        by_name = self._existing.get((operator.pk, name))
        if external_id:
            place = self._by_external_id.get(external_id)
            if place is None and by_name is not None:
                if by_name.external_id:
                    raise ValueError(f"「{name}」は別の外部ID（{by_name.external_id}）で登録済みです")
                place = by_name
        else:
            place = by_name
        if place is not None and self.forced_operator is not None and place.operator_id != self.forced_operator.pk:
            raise ValueError("この外部IDは他の団体の居場所です")
        return place

    def import_row(self, row, instance_loader, **kwargs):
        index = kwargs.get("row_number", 0)
        in_range = 0 < index <= len(self.row_numbers)
        self._current_row_number = self.row_numbers[index - 1] if in_range else index + 1
        result = super().import_row(row, instance_loader, **kwargs)
        if self.progress is not None:
            self.progress(index)
        return result

    def import_field(self, field, instance, row, is_m2m=False, **kwargs):
        if isinstance(field, ScheduleField):
            if field.column_name in row:
                field.save(instance, row)
            return
        super().import_field(field, instance, row, is_m2m, **kwargs)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        """Validate fields and clean(); skip the per-row queries full_clean would run.

        Uniqueness is settled by get_instance (natural key, duplicates in the file), the operator
        was looked up by the widget and the range checks are the widgets' own; the database
        constraints stay the last word. This keeps a 10,000-row file at a few queries per row.
        """
        errors = dict(import_validation_errors or {})
        try:
            instance.full_clean(exclude=[*errors.keys(), "operator"], validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def get_bulk_update_fields(self):
        # Schedules are rows of their own; search_text is derived from the other fields before saving.
        return [name for name in super().get_bulk_update_fields() if name != "schedules"] + ["search_text"]

    def before_save_instance(self, instance, row, **kwargs):
        instance._was_new = instance.pk is None
        # Bulk saving skips Place.save(), which keeps the search text in step.
        instance.search_text = instance.build_search_text()

    def after_save_instance(self, instance, row, **kwargs):
        specs: list[ScheduleSpec] | None = getattr(instance, "_pending_schedules", None)
        if specs is None or (self._is_dry_run(kwargs) and not self._is_using_transactions(kwargs)):
            return
        self._schedules_to_write.append((instance, specs))

    def after_import(self, dataset, result, **kwargs):
        """Replace the schedules that changed, in two statements for the whole file."""
        if result.has_errors() or result.has_validation_errors():
            return  # the import is rolled back: nothing to write
        replaced, rows = [], []
        for place, specs in self._schedules_to_write:
            if place.pk is None:
                raise RuntimeError("bulk insert returned no primary key")  # every supported database returns ids
            wanted = [(s.weekday, tuple(s.weeks_of_month), s.start_time, s.end_time) for s in specs]
            current = []
            if not getattr(place, "_was_new", False):
                # Prefetched in before_import: no query per place.
                current = [
                    (s.weekday, tuple(s.weeks_of_month or []), s.start_time, s.end_time) for s in place.schedules.all()
                ]
            # Compared as sets: a file listing the same slots in another order changes nothing.
            if sorted(current) == sorted(wanted):
                continue
            if current:
                replaced.append(place.pk)
            rows += [
                PlaceSchedule(place=place, weekday=w, weeks_of_month=list(weeks), start_time=st, end_time=en)
                for w, weeks, st, en in wanted
            ]
        if replaced:
            PlaceSchedule.objects.filter(place_id__in=replaced).delete()
        PlaceSchedule.objects.bulk_create(rows, batch_size=1000)
        self._schedules_to_write.clear()

    # -- export ---------------------------------------------------------------

    def export_field(self, field, instance, **kwargs):
        """Neutralise every text cell a spreadsheet would run as a formula, on every export path."""
        return neutralise_formula(super().export_field(field, instance, **kwargs))

    def dehydrate_schedules(self, place):
        return place.schedule_text


class RowProblems(ValueError):
    """Every problem found in one row of a places file (the row is refused with all of them listed)."""

    def __init__(self, problems: list[str]):
        super().__init__("／".join(problems))
        self.problems = problems


def error_messages(row_result) -> list[str]:
    """Return a row result's errors as Japanese 「列名: 内容」 messages."""
    messages: list[str] = []
    for error in row_result.errors:
        problems = getattr(error.error, "problems", None)
        messages.extend(problems if problems else [str(error.error)])
    validation: ValidationError | None = row_result.validation_error
    if validation is not None:
        columns = {field.attribute: field.column_name for field in PlaceResource.fields.values()}
        if hasattr(validation, "error_dict"):
            for field_name, errors in validation.message_dict.items():
                label = columns.get(field_name, "")
                for message in errors:
                    messages.append(f"{label}: {message}" if label else message)
        else:
            messages.extend(validation.messages)
    return messages


HEADERS = [PlaceResource.fields[name].column_name for name in FIELD_ORDER]
REQUIRED_HEADERS = ["名称", "種別"]
