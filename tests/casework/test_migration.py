"""Case migration from an older system's CSV/XLSX: mapping, dry run by row, all-or-nothing, idempotent."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from casework.models import (
    AccessLog,
    Case,
    CaseState,
    Consent,
    ContactRecord,
    Household,
    HouseholdMember,
    MigrationRecord,
    MigrationRun,
    MigrationSource,
    Person,
)
from casework.samples.make_case_sample import HEADER, build_rows, build_sample
from casework.services.migration import migration_run_apply, migration_run_check, migration_run_start
from core.spreadsheets import build_xlsx

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path


def _orgs(personas) -> list[str]:
    return [personas.window_a.name, personas.window_b.name]


def _csv(rows, header=HEADER, encoding="cp932") -> bytes:
    lines = [",".join(header)] + [",".join(r) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def _import(data: bytes, by, *, name="import.csv", source="旧システム"):
    run = migration_run_start(source_name=source, data=data, file_name=name, by=by)
    run = migration_run_check(run=run, column_map=run.column_map, by=by)
    return run


def _snapshot():
    return tuple(
        m.objects.count() for m in (Household, Person, HouseholdMember, Case, Consent, ContactRecord, AccessLog)
    )[:-1]


def test_a_thousand_row_cp932_sample_imports_once_and_the_second_import_changes_nothing(personas):
    data = build_sample(1000, _orgs(personas))
    run = _import(data, personas.administrator)
    assert run.status == MigrationRun.Status.CHECKED, run.problems[:3]
    assert run.encoding == "cp932"
    migration_run_apply(run=run, by=personas.administrator)
    assert Person.objects.count() == 1000
    first = _snapshot()
    assert first[3] > 300  # one case per household
    run2 = _import(data, personas.administrator)
    assert all(c["new"] == 0 for c in run2.counts.values()), run2.counts
    migration_run_apply(run=run2, by=personas.administrator)
    assert _snapshot() == first
    # Each record carries its source and row.
    rec = MigrationRecord.objects.get(kind="person", source_key="P00001-1")
    assert rec.row_number == 2 and rec.source.name == "旧システム"


def test_names_wareki_and_full_width_digits_are_read_as_typed(personas):
    rows = build_rows(3, _orgs(personas))
    rows[0][3], rows[0][4] = "髙橋", "﨑子"
    rows[0][7] = "昭和５０年４月１日"
    rows[0][10] = "０９０－１２３４－５６７８"
    run = _import(_csv(rows), personas.administrator)
    assert run.status == "checked", run.problems
    migration_run_apply(run=run, by=personas.administrator)
    person = Person.objects.get(family_name="髙橋")
    assert person.given_name == "﨑子"
    assert person.birth_date == date(1975, 4, 1)
    assert person.phone == "090-1234-5678"
    case = Case.objects.get(subjects=person)
    assert case.lead_organization.name in _orgs(personas)
    consent = Consent.objects.get(person=person)
    # The old system's explainer is a name, not an account: the administrator stands in, the name stays.
    assert consent.explained_by == personas.administrator
    assert "移行元記録" in consent.document_version and "山口" in consent.document_version
    contact = ContactRecord.objects.get(case=case)
    assert contact.summary.startswith("【移行元記録・記録者: 相談員 山口】")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_utf8_with_and_without_bom_is_read(personas, encoding):
    run = _import(_csv(build_rows(4, _orgs(personas)), encoding=encoding), personas.administrator)
    assert run.status == "checked", run.problems
    assert run.encoding == encoding


def test_xlsx_is_read(personas):
    data = build_xlsx([("ケース", HEADER, build_rows(5, _orgs(personas)))])
    run = _import(data, personas.administrator, name="cases.xlsx")
    assert run.status == "checked", run.problems
    migration_run_apply(run=run, by=personas.administrator)
    assert Person.objects.count() == 5


def test_a_bad_row_names_its_row_and_column_and_saves_nothing(personas):
    rows = build_rows(6, _orgs(personas))
    rows[3][7] = "昭和99年13月1日"  # row 5 of the file
    rows[3][3] = "秘密の氏名"
    subject_row = next(i for i, r in enumerate(rows) if r[11])
    rows[subject_row][14] = "存在しない機関"
    run = _import(_csv(rows), personas.administrator)
    assert run.status == "failed"
    where = {(p["row"], p["column"]) for p in run.problems}
    assert (5, "生年月日") in where
    assert (subject_row + 2, "主担当機関") in where
    # The report names rows and columns, never the content.
    assert "秘密" not in str(run.problems) and "昭和99" not in str(run.problems)
    with pytest.raises(ValidationError):
        migration_run_apply(run=run, by=personas.administrator)
    assert Person.objects.count() == 0 and Case.objects.count() == 0


def test_rows_of_one_case_that_disagree_are_refused(personas):
    rows = build_rows(2, _orgs(personas))
    rows[1] = list(rows[0])
    rows[1][2] = "P99999"
    rows[1][15] = "令和6年5月1日"  # same case, another 受付日
    run = _import(_csv(rows), personas.administrator)
    assert run.status == "failed"
    assert any(p["row"] == 3 and "2行目と値が違います" in p["message"] for p in run.problems)


def test_the_column_mapping_is_remembered_per_source(personas):
    header = [h if h != "氏" else "氏名（姓）" for h in HEADER]
    data = _csv(build_rows(2, _orgs(personas)), header=header)
    run = migration_run_start(source_name="東包括の台帳", data=data, file_name="a.csv", by=personas.administrator)
    assert "family_name" not in run.column_map
    column_map = {**run.column_map, "family_name": "氏名（姓）"}
    migration_run_check(run=run, column_map=column_map, by=personas.administrator)
    assert MigrationSource.objects.get(name="東包括の台帳").column_map["family_name"] == "氏名（姓）"
    again = migration_run_start(source_name="東包括の台帳", data=data, file_name="b.csv", by=personas.administrator)
    assert again.column_map["family_name"] == "氏名（姓）"


def test_a_closed_case_keeps_its_state_and_its_history_says_migrated(personas):
    rows = build_rows(30, _orgs(personas))
    run = _import(_csv(rows), personas.administrator)
    migration_run_apply(run=run, by=personas.administrator)
    closed = Case.objects.filter(state=CaseState.CLOSED).first()
    assert closed is not None and closed.closed_on == date(2025, 3, 31)
    assert "移行" in closed.transitions.get().reason
    # The lead organization can open it: the grant was written.
    from tests.conftest import sign_in

    worker = personas.caseworker_a if closed.lead_organization == personas.window_a else personas.caseworker_b
    assert sign_in(worker).get(reverse("casework:case_detail", args=[closed.pk])).status_code == 200


def test_the_screens_are_for_administrators_only(personas, login):
    for user in (personas.caseworker_a, personas.auditor, personas.supervisor_a):
        assert login(user).get(reverse("casework:migration")).status_code == 404
    assert login(None).get(reverse("casework:migration")).status_code == 302


def test_an_administrator_walks_upload_mapping_dry_run_and_apply(personas, login):
    client = login(personas.administrator)
    data = build_sample(12, _orgs(personas))
    page = client.get(reverse("casework:migration"))
    assert page.status_code == 200
    response = client.post(
        reverse("casework:migration"), {"source_name": "旧システム", "file": _upload(data, "old.csv")}
    )
    run = MigrationRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("casework:migration_mapping", args=[run.pk])
    mapping = client.get(response["Location"])
    assert mapping.status_code == 200 and "世帯番号" in mapping.content.decode()
    response = client.post(response["Location"], run.column_map)
    assert response.status_code == 302
    report = client.get(run.get_absolute_url()).content.decode()
    assert "反映する" in report and "ハル" not in report
    logged = AccessLog.objects.filter(object_type="migrationrun", object_id=str(run.pk))
    assert logged.filter(action="view").count() == 1
    client.post(reverse("casework:migration_apply", args=[run.pk]))
    run.refresh_from_db()
    assert run.status == "applied" and Person.objects.count() == 12
    created = logged.get(action="create")
    assert sorted(created.person_ids) == sorted(Person.objects.values_list("pk", flat=True))


def test_a_bad_file_gets_a_japanese_message_not_a_500(personas, login):
    client = login(personas.administrator)
    response = client.post(
        reverse("casework:migration"), {"source_name": "旧", "file": _upload(b"\xff\xfe\x00garbage\x80", "x.csv")}
    )
    assert response.status_code == 200
    assert "文字コード" in response.content.decode() or "読め" in response.content.decode()
    assert not MigrationRun.objects.exists()


def test_the_command_imports_and_a_second_run_changes_nothing(personas, tmp_path):
    path = tmp_path / "old.csv"
    path.write_bytes(build_sample(20, _orgs(personas)))
    out = io.StringIO()
    call_command("import_cases", str(path), "--source", "旧", "--by", "admin", stdout=out)
    assert "取り込みました" in out.getvalue()
    before = _snapshot()
    call_command("import_cases", str(path), "--source", "旧", "--by", "admin", stdout=io.StringIO())
    assert _snapshot() == before
    with pytest.raises(CommandError):
        call_command("import_cases", str(path), "--source", "旧", "--by", "cw_a", stdout=io.StringIO())


def _upload(data: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)
