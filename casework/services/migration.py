"""Case migration from an older system's CSV/XLSX: read, map columns, dry run by row, all-or-nothing apply.

One row is one person in a household, optionally in a case (with the case's consent and one contact
record). The source's own keys (世帯番号, 個人ID, ケース番号) make a second import of the same file
change nothing: a key already imported from the same source is matched, never written again.

Consents and contact records need an account as explainer / recorder; an old system only has a
name. The importing administrator is recorded as the account, and the source's named person is kept
visibly (the consent's 説明文書の版 field and the contact record's text say 「移行元の記録」) and on
the provenance row.
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from casework import audit
from casework.choices import Domain
from casework.models import (
    AccessLog,
    Case,
    CaseDomain,
    CaseState,
    CaseSubject,
    CaseTeamMembership,
    CaseTransition,
    Consent,
    ConsentPurpose,
    ConsultationCategory,
    ContactRecord,
    Household,
    HouseholdMember,
    IntakeRoute,
    MigrationRecord,
    MigrationRun,
    MigrationSource,
    Organization,
    Person,
)
from casework.services.cases import _allocate_case_number, _grant
from core.forms import has_bad_text
from core.japanese import parse_date
from core.spreadsheets import DecodeError, SheetProblem, decode_csv_bytes, read_xlsx_rows

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_ROWS = 20_000
MAX_COLUMNS = 200
MIGRATION_REASON = "移行前システムからのデータ移行"


class FileProblem(ValueError):
    """The file as a whole cannot be read (encoding, format, header, empty); the message is Japanese."""


# ---------------------------------------------------------------------------
# The fields a row may carry
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    code: str
    label: str
    group: str
    max_length: int = 200
    required: bool = False


FIELDS: list[Field] = [
    Field("household_key", "世帯番号", "世帯", 100, required=True),
    Field("household_name", "世帯名", "世帯", 100),
    Field("person_key", "個人ID", "本人・世帯員", 100, required=True),
    Field("family_name", "氏", "本人・世帯員", 100),
    Field("given_name", "名", "本人・世帯員", 100),
    Field("family_name_kana", "氏フリガナ", "本人・世帯員", 100),
    Field("given_name_kana", "名フリガナ", "本人・世帯員", 100),
    Field("birth_date", "生年月日", "本人・世帯員", 40),
    Field("gender", "性別", "本人・世帯員", 20),
    Field("relationship", "続柄", "本人・世帯員", 20),
    Field("postal_code", "郵便番号", "本人・世帯員", 8),
    Field("prefecture", "都道府県", "本人・世帯員", 10),
    Field("city", "市区町村", "本人・世帯員", 100),
    Field("street", "町名番地", "本人・世帯員", 200),
    Field("building", "建物名", "本人・世帯員", 200),
    Field("phone", "電話番号", "本人・世帯員", 30),
    Field("case_key", "ケース番号", "ケース", 100),
    Field("domains", "分野", "ケース", 100),
    Field("state", "状態", "ケース", 20),
    Field("lead_organization", "主担当機関", "ケース", 200),
    Field("opened_on", "受付日", "ケース", 40),
    Field("closed_on", "終結日", "ケース", 40),
    Field("intake_route", "相談経路", "ケース", 20),
    Field("main_category", "主な相談内容", "ケース", 30),
    Field("summary", "主訴", "ケース", 4000),
    Field("consent_on", "同意日", "同意", 40),
    Field("consent_status", "同意状況", "同意", 10),
    Field("consent_method", "同意方法", "同意", 10),
    Field("consent_explainer", "同意説明者", "同意", 100),
    Field("contact_on", "支援経過日", "支援経過記録", 40),
    Field("contact_kind", "支援経過種別", "支援経過記録", 10),
    Field("contact_summary", "支援経過内容", "支援経過記録", 4000),
    Field("contact_recorder", "支援経過記録者", "支援経過記録", 100),
]
FIELD_BY_CODE = {f.code: f for f in FIELDS}

_SPLIT = str.maketrans({c: "," for c in "、・/／,，;；|｜ 　"})
_YES = {"○", "〇", "◯", "有", "あり", "はい", "1", "true", "TRUE", "y", "Y"}


def _choice_by_label(choices, extra: dict[str, str] | None = None) -> dict[str, str]:
    table = {str(label): value for value, label in choices}
    table.update({value: value for value, _label in choices})
    table.update(extra or {})
    return table


GENDERS = _choice_by_label(Person.Gender.choices, {"男性": "male", "女性": "female", "不明": "undisclosed"})
RELATIONSHIPS = _choice_by_label(
    HouseholdMember.Relationship.choices, {"世帯主": "self", "妻": "spouse", "夫": "spouse"}
)
DOMAINS = _choice_by_label(Domain.choices, {"その他": "other", "こども": "child", "子供": "child", "困窮": "poverty"})
STATES = _choice_by_label(CaseState.choices, {"支援終了": "closed", "対応中": "in_support"})
ROUTES = _choice_by_label(IntakeRoute.choices, {"近隣": "neighbour", "知人": "neighbour"})
CATEGORIES = _choice_by_label(ConsultationCategory.choices)
CONSENT_STATUSES = {"同意": "given", "あり": "given", "有": "given", "不同意": "refused", "なし": "refused"}
CONSENT_METHODS = _choice_by_label(Consent.Method.choices)
CONTACT_KINDS = _choice_by_label(ContactRecord.Kind.choices, {"来所": "interview", "電話相談": "phone"})


def default_column_map(headers: list[str], remembered: dict[str, str] | None = None) -> dict[str, str]:
    """Propose a mapping: what was used for this source before, else a header named like the field."""
    remembered = remembered or {}
    proposal: dict[str, str] = {}
    for f in FIELDS:
        if remembered.get(f.code) in headers:
            proposal[f.code] = remembered[f.code]
        elif f.label in headers:
            proposal[f.code] = f.label
    return proposal


# ---------------------------------------------------------------------------
# Reading the file
# ---------------------------------------------------------------------------


@dataclass
class SourceFile:
    """A file's header and data rows (cells as text), each with its spreadsheet row number."""

    headers: list[str]
    rows: list[tuple[int, list[str]]]
    encoding: str = ""


def _records_from_xlsx(data: bytes) -> list[list[str]]:
    try:
        return read_xlsx_rows(data, max_columns=MAX_COLUMNS)
    except SheetProblem as problem:
        raise FileProblem(str(problem)) from None


def read_source_file(data: bytes, *, file_format: str) -> SourceFile:
    """Read a CSV (cp932, UTF-8 with or without BOM) or XLSX; raise FileProblem naming the line."""
    import csv

    if not data.strip(b"\xef\xbb\xbf \r\n\t,"):
        raise FileProblem("ファイルが空です")
    used = ""
    if file_format == "xlsx":
        records = _records_from_xlsx(data)
    elif file_format == "csv":
        try:
            text, used = decode_csv_bytes(data)
        except DecodeError as error:
            raise FileProblem(error.message) from None
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            records = [list(r) for r in reader]
        except csv.Error as error:
            raise FileProblem(f"CSVとして読めません（{reader.line_num}行目付近）: {error}") from None
    else:
        raise FileProblem("CSV または XLSX ファイルを選んでください")
    if not records:
        raise FileProblem("ファイルが空です")
    headers = [h.strip() for h in records[0]]
    while headers and headers[-1] == "":
        headers.pop()
    if not headers:
        raise FileProblem("1行目に見出しがありません")
    if len(headers) > MAX_COLUMNS:
        raise FileProblem(f"見出し行の列が多すぎます（{len(headers)}列）")
    seen: set[str] = set()
    for column, name in enumerate(headers, start=1):
        if name == "":
            raise FileProblem(f"見出し行の{column}列目が空です")
        if has_bad_text(name):
            raise FileProblem(f"見出し行の{column}列目に使用できない文字があります")
        if name in seen:
            raise FileProblem(f"見出し行に同じ列名が複数あります: {name}")
        seen.add(name)
    rows: list[tuple[int, list[str]]] = []
    for number, record in enumerate(records[1:], start=2):
        if not any(c.strip() for c in record):
            continue
        if any(c.strip() for c in record[len(headers) :]):
            raise FileProblem(f"{number}行目に見出しより多くの値があります")
        rows.append((number, record[: len(headers)] + [""] * (len(headers) - len(record))))
        if len(rows) > MAX_ROWS:
            raise FileProblem(f"行が多すぎます（{MAX_ROWS}行まで）。ファイルを分けてください")
    if not rows:
        raise FileProblem("データ行がありません")
    return SourceFile(headers, rows, used)


def file_format_of(name: str) -> str:
    suffix = Path(name or "").suffix.lower()
    return {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx"}.get(suffix, "")


def run_file_path(run: MigrationRun) -> Path:
    return Path(settings.MEDIA_ROOT) / "case_migrations" / f"{run.pk}.{run.file_format}"


# ---------------------------------------------------------------------------
# Checking rows (the dry run): every problem names its row and column, never the cell's content
# ---------------------------------------------------------------------------


@dataclass
class Problem:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class Plan:
    """What the file would create, keyed by the source's own keys, with the first row naming each."""

    households: dict[str, dict] = field(default_factory=dict)
    persons: dict[str, dict] = field(default_factory=dict)
    members: dict[tuple[str, str], dict] = field(default_factory=dict)
    cases: dict[str, dict] = field(default_factory=dict)
    subjects: dict[tuple[str, str], int] = field(default_factory=dict)
    consents: dict[str, dict] = field(default_factory=dict)
    contacts: dict[str, dict] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    row_count: int = 0


class _Row:
    """One row's cells by field code, collecting problems by column label."""

    def __init__(self, number: int, values: dict[str, str], problems: list[Problem]):
        self.number = number
        self.values = values
        self.problems = problems

    def problem(self, code: str, message: str) -> None:
        self.problems.append(Problem(self.number, FIELD_BY_CODE[code].label, message))

    def text(self, code: str) -> str:
        value = self.values.get(code, "")
        # Names and text exactly as typed: only the surrounding spaces an export pads with go.
        value = value.strip(" \u3000\t")
        f = FIELD_BY_CODE[code]
        if has_bad_text(value):
            self.problem(code, "使用できない文字（制御文字・不正な文字コード）が含まれています")
            return ""
        if len(value) > f.max_length:
            self.problem(code, f"長すぎます（{f.max_length}文字まで）")
            return ""
        return value

    def digits(self, code: str) -> str:
        """Phone numbers and postal codes typed with the IME: full-width digits and hyphens become ASCII."""
        value = unicodedata.normalize("NFKC", self.text(code)).replace("ー", "-").replace("−", "-")
        if value and not all(c.isdigit() or c in "-()" for c in value):
            self.problem(code, "数字とハイフンで入力してください")
            return ""
        return value

    def day(self, code: str) -> date | None:
        value = self.text(code)
        if not value:
            return None
        # An XLSX date with a time part, or "2025-04-01 00:00:00" from an older export.
        head = value.split(" ")[0] if " " in value and value[:4].isdigit() else value
        try:
            return parse_date(head)
        except ValueError:
            self.problem(code, "日付として読めません（例: 令和7年4月1日、R7.4.1、2025/04/01）")
            return None

    def choice(self, code: str, table: dict[str, str], *, default: str = "") -> str:
        value = self.text(code)
        if not value:
            return default
        key = unicodedata.normalize("NFKC", value)
        if value in table:
            return table[value]
        if key in table:
            return table[key]
        self.problem(code, "選択肢にない値です（" + "、".join(sorted({k for k in table if not k.isascii()})) + "）")
        return default

    def choices(self, code: str, table: dict[str, str]) -> list[str]:
        value = self.text(code)
        out: list[str] = []
        for part in value.translate(_SPLIT).split(","):
            if not part:
                continue
            picked = table.get(part) or table.get(unicodedata.normalize("NFKC", part))
            if picked is None:
                self.problem(code, "選択肢にない値があります（" + "、".join(k for k in table if not k.isascii()) + "）")
                return []
            out.append(picked)
        return list(dict.fromkeys(out))


def _organizations() -> dict[str, Organization]:
    table: dict[str, Organization] = {}
    for org in Organization.objects.filter(is_active=True):
        table[org.name] = org
        if org.short_name:
            table.setdefault(org.short_name, org)
    return table


def _same(row: _Row, first: dict, values: dict, label_code: str) -> None:
    """Rows repeating a key must agree on that record's values."""
    for code, value in values.items():
        if code.startswith("_"):
            continue
        if first.get(code) != value:
            row.problem(
                code if code in FIELD_BY_CODE else label_code,
                f"同じ{FIELD_BY_CODE[label_code].label}の{first['_row']}行目と値が違います",
            )


def check_rows(source_file: SourceFile, column_map: dict[str, str]) -> Plan:
    """Check every row against the mapping and build what would be created; nothing is written."""
    plan = Plan(row_count=len(source_file.rows))
    index = {h: i for i, h in enumerate(source_file.headers)}
    for f in FIELDS:
        if f.required and column_map.get(f.code) not in index:
            plan.problems.append(Problem(0, f.label, "必須の項目です。対応する列を選んでください"))
    if plan.problems:
        return plan
    organizations = _organizations()
    for number, cells in source_file.rows:
        values = {code: cells[index[header]] for code, header in column_map.items() if header in index}
        row = _Row(number, values, plan.problems)
        household_key = row.text("household_key")
        person_key = row.text("person_key")
        if not household_key:
            row.problem("household_key", "必須です")
        if not person_key:
            row.problem("person_key", "必須です")
        person = {
            "family_name": row.text("family_name"),
            "given_name": row.text("given_name"),
            "family_name_kana": row.text("family_name_kana"),
            "given_name_kana": row.text("given_name_kana"),
            "birth_date": row.day("birth_date"),
            "gender": row.choice("gender", GENDERS),
            "postal_code": row.digits("postal_code"),
            "prefecture": row.text("prefecture"),
            "city": row.text("city"),
            "street": row.text("street"),
            "building": row.text("building"),
            "phone": row.digits("phone"),
        }
        if person["birth_date"] and person["birth_date"] > timezone.localdate():
            row.problem("birth_date", "未来の日付です")
        relationship = row.choice("relationship", RELATIONSHIPS, default=HouseholdMember.Relationship.OTHER)
        household_name = row.text("household_name") or (
            f"{person['family_name']}世帯" if person["family_name"] else f"世帯 {household_key}"
        )
        case_key = row.text("case_key")
        case = None
        if case_key:
            lead_name = row.text("lead_organization")
            lead = organizations.get(lead_name)
            if not lead_name:
                row.problem("lead_organization", "ケースには主担当機関が必要です")
            elif lead is None:
                row.problem("lead_organization", "登録されている機関の名称（または略称）と一致しません")
            before = len(plan.problems)
            domains = row.choices("domains", DOMAINS)
            if not domains and len(plan.problems) == before:
                row.problem("domains", "ケースには分野が一つ以上必要です")
            before = len(plan.problems)
            opened_on = row.day("opened_on")
            if opened_on is None and len(plan.problems) == before:
                row.problem("opened_on", "ケースには受付日が必要です")
            closed_on = row.day("closed_on")
            state = row.choice("state", STATES, default=CaseState.INTAKE)
            if state in {CaseState.CLOSED, CaseState.SUSPENDED} and closed_on is None:
                row.problem("closed_on", "終結・中断のケースには終結日が必要です")
            if closed_on and state not in {CaseState.CLOSED, CaseState.SUSPENDED}:
                row.problem("closed_on", "終結日は状態が終結・中断のときだけ入力してください")
            if closed_on and opened_on and closed_on < opened_on:
                row.problem("closed_on", "受付日より前です")
            case = {
                "_row": number,
                "household_key": household_key,
                "lead_id": lead.pk if lead else None,
                "domains": domains,
                "opened_on": opened_on,
                "closed_on": closed_on,
                "state": state,
                "intake_route": row.choice("intake_route", ROUTES, default=IntakeRoute.OTHER),
                "main_category": row.choice("main_category", CATEGORIES, default=ConsultationCategory.OTHER),
                "summary": row.text("summary"),
            }
        consent = None
        consent_on = row.day("consent_on")
        if consent_on:
            if not case_key:
                row.problem("consent_on", "同意はケース番号のある行にだけ入力できます")
            consent = {
                "_row": number,
                "person_key": person_key,
                "case_key": case_key,
                "given_on": consent_on,
                "status": row.choice("consent_status", CONSENT_STATUSES, default="given"),
                "method": row.choice("consent_method", CONSENT_METHODS, default=Consent.Method.WRITTEN),
                "explainer": row.text("consent_explainer"),
            }
        contact = None
        contact_on = row.day("contact_on")
        contact_summary = row.text("contact_summary")
        if contact_on or contact_summary:
            if not case_key:
                row.problem("contact_on", "支援経過記録はケース番号のある行にだけ入力できます")
            if contact_on is None:
                row.problem("contact_on", "支援経過記録には日付が必要です")
            if not contact_summary:
                row.problem("contact_summary", "支援経過記録には内容が必要です")
            contact = {
                "_row": number,
                "case_key": case_key,
                "person_key": person_key,
                "on": contact_on,
                "kind": row.choice("contact_kind", CONTACT_KINDS, default=ContactRecord.Kind.INTERVIEW),
                "summary": contact_summary,
                "recorder": row.text("contact_recorder"),
            }
        if any(p.row == number for p in plan.problems):
            continue
        # Records repeated over rows (a household of three, a person in two cases) must agree.
        household = {"_row": number, "name": household_name}
        if household_key in plan.households:
            _same(row, plan.households[household_key], {"name": household_name}, "household_key")
        else:
            plan.households[household_key] = household
        if person_key in plan.persons:
            _same(row, plan.persons[person_key], person, "person_key")
        else:
            plan.persons[person_key] = {"_row": number, **person}
        member_key = (household_key, person_key)
        if member_key not in plan.members:
            plan.members[member_key] = {"_row": number, "relationship": relationship}
        if case is not None:
            if case_key in plan.cases:
                _same(row, plan.cases[case_key], {k: v for k, v in case.items() if k != "_row"}, "case_key")
            else:
                plan.cases[case_key] = case
            plan.subjects.setdefault((case_key, person_key), number)
        if consent is not None:
            plan.consents.setdefault(f"{case_key}|{person_key}|{consent['given_on'].isoformat()}", consent)
        if contact is not None:
            digest = hashlib.sha256(
                "\x1f".join([contact["on"].isoformat(), contact["kind"], contact["summary"]]).encode()
            ).hexdigest()[:24]
            plan.contacts.setdefault(f"{case_key}|{person_key}|{digest}", contact)
    return plan


# ---------------------------------------------------------------------------
# Runs: upload, map, check, apply
# ---------------------------------------------------------------------------


def _existing(source: MigrationSource) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = {kind: {} for kind in MigrationRecord.Kind.values}
    for kind, key, object_id in MigrationRecord.objects.filter(source=source).values_list(
        "kind", "source_key", "object_id"
    ):
        table[kind][key] = object_id
    return table


def _counts(plan: Plan, existing: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    sections = {
        MigrationRecord.Kind.HOUSEHOLD: plan.households,
        MigrationRecord.Kind.PERSON: plan.persons,
        MigrationRecord.Kind.CASE: plan.cases,
        MigrationRecord.Kind.CONSENT: plan.consents,
        MigrationRecord.Kind.CONTACT: plan.contacts,
    }
    out = {}
    for kind, keys in sections.items():
        known = sum(1 for key in keys if key in existing[kind])
        out[kind] = {"new": len(keys) - known, "unchanged": known}
    return out


def _check_existing(plan: Plan, existing: dict[str, dict[str, int]]) -> None:
    """A case already migrated keeps its lead and household; a row pointing elsewhere is a problem."""
    if not existing[MigrationRecord.Kind.CASE]:
        return
    cases = Case.objects.in_bulk(list(existing[MigrationRecord.Kind.CASE].values()))
    for key, case in plan.cases.items():
        object_id = existing[MigrationRecord.Kind.CASE].get(key)
        if object_id is None or object_id not in cases:
            continue
        if existing[MigrationRecord.Kind.HOUSEHOLD].get(case["household_key"]) != cases[object_id].household_id:
            plan.problems.append(
                Problem(case["_row"], "世帯番号", "取り込み済みのケースが前回と別の世帯番号になっています")
            )


def _log(run: MigrationRun, *, by, action: str, person_ids, reason: str) -> None:
    audit.log_access(
        actor=by,
        action=action,
        object_type="migrationrun",
        object_id=run.pk,
        person_ids=person_ids,
        basis=AccessLog.Basis.OWN_ORGANIZATION,
        reason=reason,
    )


@transaction.atomic
def migration_run_start(*, source_name: str, data: bytes, file_name: str, by) -> MigrationRun:
    """Keep an uploaded file for mapping and checking; raise FileProblem when it cannot be read."""
    source_name = source_name.strip()
    if not source_name or has_bad_text(source_name) or len(source_name) > 100:
        raise FileProblem("移行元の名称を100文字以内で入力してください")
    if len(data) > MAX_UPLOAD_BYTES:
        raise FileProblem("ファイルが大きすぎます（20MBまで）")
    file_format = file_format_of(file_name)
    if not file_format:
        raise FileProblem("CSV（.csv）または Excel（.xlsx）ファイルを選んでください")
    parsed = read_source_file(data, file_format=file_format)
    source, _created = MigrationSource.objects.get_or_create(name=source_name, defaults={"updated_by": by})
    run = MigrationRun.objects.create(
        source=source,
        file_format=file_format,
        encoding=parsed.encoding,
        file_sha256=hashlib.sha256(data).hexdigest(),
        headers=parsed.headers,
        column_map=default_column_map(parsed.headers, source.column_map),
        row_count=len(parsed.rows),
        created_by=by,
    )
    path = run_file_path(run)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return run


def _load(run: MigrationRun) -> SourceFile:
    try:
        data = run_file_path(run).read_bytes()
    except OSError:
        raise FileProblem("取り込むファイルが見つかりません。もう一度アップロードしてください") from None
    return read_source_file(data, file_format=run.file_format)


def _clean_map(run: MigrationRun, column_map: dict[str, str]) -> dict[str, str]:
    return {code: header for code, header in column_map.items() if code in FIELD_BY_CODE and header in run.headers}


@transaction.atomic
def migration_run_check(*, run: MigrationRun, column_map: dict[str, str], by) -> MigrationRun:
    """Dry run: remember the mapping for the source, check every row, report by row and column."""
    if run.status in {MigrationRun.Status.APPLIED, MigrationRun.Status.CANCELLED}:
        raise ValidationError("この取り込みは終了しています。")
    column_map = _clean_map(run, column_map)
    used = [h for h in column_map.values()]
    if len(used) != len(set(used)):
        raise ValidationError("同じ列を二つの項目に対応づけています。")
    plan = check_rows(_load(run), column_map)
    existing = _existing(run.source)
    if not plan.problems:
        _check_existing(plan, existing)
    run.column_map = column_map
    run.counts = _counts(plan, existing)
    run.problems = [p.as_dict() for p in plan.problems]
    run.warnings = [p.as_dict() for p in plan.warnings]
    run.status = MigrationRun.Status.FAILED if plan.problems else MigrationRun.Status.CHECKED
    run.checked_at = timezone.now()
    run.save()
    source = run.source
    source.column_map = column_map
    source.updated_by = by
    source.save(update_fields=["column_map", "updated_by", "updated_at"])
    # The report shows no content, but it does tell which rows match persons already here.
    matched = [
        existing[MigrationRecord.Kind.PERSON][k] for k in plan.persons if k in existing[MigrationRecord.Kind.PERSON]
    ]
    _log(run, by=by, action=AccessLog.Action.VIEW, person_ids=matched, reason="移行データの確認（試行）")
    return run


def migration_run_apply(*, run: MigrationRun, by) -> MigrationRun:
    """Apply a checked run: every row or none; records already migrated from the source stay untouched."""
    with transaction.atomic():
        run = MigrationRun.objects.select_for_update().select_related("source").get(pk=run.pk)
        if run.status != MigrationRun.Status.CHECKED:
            raise ValidationError("確認済みでエラーのない取り込みだけ反映できます。")
        plan = check_rows(_load(run), run.column_map)
        existing = _existing(run.source)
        if not plan.problems:
            _check_existing(plan, existing)
        if plan.problems:
            raise ValidationError("確認後にデータが変わりました。もう一度確認してください。")
        person_ids = _write(run, plan, existing, by=by)
        run.counts = _counts(plan, existing)
        run.status = MigrationRun.Status.APPLIED
        run.applied_at = timezone.now()
        run.save(update_fields=["counts", "status", "applied_at"])
        _log(run, by=by, action=AccessLog.Action.CREATE, person_ids=person_ids, reason=MIGRATION_REASON)
    run_file_path(run).unlink(missing_ok=True)
    return run


@transaction.atomic
def migration_run_cancel(*, run: MigrationRun, by) -> MigrationRun:
    """Drop a run that will not be applied, and its kept file."""
    if run.status == MigrationRun.Status.APPLIED:
        raise ValidationError("反映済みの取り込みは取り消せません。")
    run.status = MigrationRun.Status.CANCELLED
    run.save(update_fields=["status"])
    run_file_path(run).unlink(missing_ok=True)
    return run


def _write(run: MigrationRun, plan: Plan, existing: dict[str, dict[str, int]], *, by) -> list[int]:
    """Create what the plan holds and is not yet migrated; return every person id the file names."""
    records: list[MigrationRecord] = []

    def remember(kind: str, key: str, obj, row: int, note: str = "") -> None:
        existing[kind][key] = obj.pk
        records.append(
            MigrationRecord(
                source=run.source, kind=kind, source_key=key, object_id=obj.pk, run=run, row_number=row, note=note
            )
        )

    K = MigrationRecord.Kind
    for key, h in plan.households.items():
        if key not in existing[K.HOUSEHOLD]:
            household = Household(name=h["name"], created_by=by)
            household.full_clean()
            household.save()
            remember(K.HOUSEHOLD, key, household, h["_row"])
    for key, p in plan.persons.items():
        if key not in existing[K.PERSON]:
            person = Person(created_by=by, **{k: v for k, v in p.items() if not k.startswith("_")})
            person.full_clean(exclude=["search_key"])
            person.save()
            remember(K.PERSON, key, person, p["_row"])
    current = set(
        HouseholdMember.objects.filter(household_id__in=existing[K.HOUSEHOLD].values(), until__isnull=True).values_list(
            "household_id", "person_id"
        )
    )
    new_members = []
    for (household_key, person_key), m in plan.members.items():
        pair = (existing[K.HOUSEHOLD][household_key], existing[K.PERSON][person_key])
        if pair not in current:
            current.add(pair)
            new_members.append(HouseholdMember(household_id=pair[0], person_id=pair[1], relationship=m["relationship"]))
    HouseholdMember.objects.bulk_create(new_members)
    note = f"{MIGRATION_REASON}（{run.source.name}）"
    for key, c in plan.cases.items():
        if key in existing[K.CASE]:
            continue
        lead = Organization.objects.get(pk=c["lead_id"])
        case = Case(
            number=_allocate_case_number(c["opened_on"]),
            household_id=existing[K.HOUSEHOLD][c["household_key"]],
            categories=[c["main_category"]],
            main_category=c["main_category"],
            intake_route=c["intake_route"],
            lead_organization=lead,
            summary=c["summary"],
            opened_on=c["opened_on"],
            closed_on=c["closed_on"],
            state=c["state"],
            created_by=by,
        )
        case.full_clean(exclude=["number", "state"])
        case.save()
        CaseDomain.objects.bulk_create([CaseDomain(case=case, domain=d) for d in c["domains"]])
        CaseTeamMembership.objects.create(
            case=case, organization=lead, role_note="主担当", added_by=by, basis_kind=AccessLog.Basis.OWN_ORGANIZATION
        )
        _grant(case, lead)
        if c["state"] != CaseState.INTAKE:
            # The state came from the old system, not through the case flow: the history says so.
            CaseTransition.objects.create(
                case=case, from_state=CaseState.INTAKE, to_state=c["state"], by=by, reason=note
            )
        remember(K.CASE, key, case, c["_row"])
    known_subjects = set(
        CaseSubject.objects.filter(case_id__in=existing[K.CASE].values()).values_list("case_id", "person_id")
    )
    new_subjects = []
    for (case_key, person_key), _row in plan.subjects.items():
        pair = (existing[K.CASE][case_key], existing[K.PERSON][person_key])
        if pair not in known_subjects:
            known_subjects.add(pair)
            new_subjects.append(CaseSubject(case_id=pair[0], person_id=pair[1]))
    CaseSubject.objects.bulk_create(new_subjects)
    for key, c in plan.consents.items():
        if key in existing[K.CONSENT]:
            continue
        explainer = f"移行元記録・説明者: {c['explainer']}" if c["explainer"] else "移行元記録"
        consent = Consent(
            person_id=existing[K.PERSON][c["person_key"]],
            case_id=existing[K.CASE][c["case_key"]],
            given_on=c["given_on"],
            method=c["method"],
            # The old system names a person, not an account: the importing administrator stands in.
            explained_by=by,
            recorded_by=by,
            document_version=explainer[:50],
            scope_kind=Consent.ScopeKind.CASE_TEAM,
            purposes=[ConsentPurpose.SHARE_WITH_AGENCIES],
            status=c["status"],
        )
        consent.full_clean()
        consent.save()
        remember(K.CONSENT, key, consent, c["_row"], note=f"説明者: {c['explainer']}"[:300] if c["explainer"] else "")
    zone = timezone.get_current_timezone()
    for key, c in plan.contacts.items():
        if key in existing[K.CONTACT]:
            continue
        case_id = existing[K.CASE][c["case_key"]]
        recorder = f"【移行元記録・記録者: {c['recorder']}】\n" if c["recorder"] else "【移行元記録】\n"
        contact = ContactRecord(
            case_id=case_id,
            person_id=existing[K.PERSON][c["person_key"]],
            occurred_at=datetime.combine(c["on"], time.min, tzinfo=zone),
            kind=c["kind"],
            summary=recorder + c["summary"],
            recorded_by=by,
            organization_id=Case.objects.values_list("lead_organization_id", flat=True).get(pk=case_id),
        )
        contact.full_clean()
        contact.save()
        remember(K.CONTACT, key, contact, c["_row"], note=f"記録者: {c['recorder']}"[:300] if c["recorder"] else "")
    MigrationRecord.objects.bulk_create(records)
    return sorted({existing[K.PERSON][k] for k in plan.persons})
