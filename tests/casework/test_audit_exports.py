"""Exports of the filtered access log: CSV with BOM or cp932, XLSX, formula escaping, logged with persons."""

import io

import openpyxl
import pytest
from django.urls import reverse

from casework.audit import log_access
from casework.models import AccessLog

DANGEROUS = '=HYPERLINK("http://evil.example/","x")'


@pytest.fixture
def rows(personas):
    return [
        log_access(
            actor=personas.caseworker_a,
            action=AccessLog.Action.VIEW,
            object_type="case",
            object_id=1,
            person_ids=[5, 6],
            basis=AccessLog.Basis.BREAK_GLASS,
            reason=DANGEROUS + " 吉田さん𠮷野家",
        ),
        log_access(actor=personas.caseworker_b, action=AccessLog.Action.LIST, object_type="case", person_ids=[7]),
    ]


def export(client, **params):
    return client.get(reverse("audit:export"), params)


@pytest.mark.django_db
def test_csv_has_a_bom_and_neutralises_formulas(personas, login, rows):
    response = export(login(personas.auditor), format="csv", actor="cw_a")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment;" in response["Content-Disposition"]
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf")
    text = body.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("ID,チェーン日付,連番")
    assert "'" + DANGEROUS.replace('"', '""') in text
    assert ',"=HYPERLINK' not in text and ",=HYPERLINK" not in text
    assert "𠮷野家" in text
    assert "5 6" in text and "cw_b" not in text


@pytest.mark.django_db
def test_cp932_csv_reports_the_characters_it_replaced(personas, login, rows):
    response = export(login(personas.auditor), format="csv_cp932", actor="cw_a")
    assert response.status_code == 200
    assert response["X-Replaced-Characters"] == "1"
    text = response.content.decode("cp932")
    first, header = text.splitlines()[:2]
    assert first.startswith("# cp932で表せない文字を〓に置き換えました（1件）: 3行18列 U+20BB7")
    assert header.startswith("ID,")
    assert "〓野家" in text and "吉田さん" in text


@pytest.mark.django_db
def test_xlsx_opens_with_openpyxl_and_neutralises_formulas(personas, login, rows):
    response = export(login(personas.auditor), format="xlsx")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    header = [cell.value for cell in sheet[1]]
    assert header[:3] == ["ID", "チェーン日付", "連番"]
    reason_column = header.index("理由")
    reasons = [row[reason_column].value for row in sheet.iter_rows(min_row=2)]
    assert any(value and value.startswith("'" + DANGEROUS) for value in reasons)
    assert not any(value and value.startswith("=") for value in reasons)


@pytest.mark.django_db
def test_an_export_is_logged_with_every_exported_person(personas, login, rows):
    export(login(personas.auditor), format="csv", person=5)
    export(login(personas.auditor), format="xlsx")
    own = AccessLog.objects.filter(actor=personas.auditor).order_by("seq")
    assert [(r.action, r.basis, r.object_id) for r in own] == [
        (AccessLog.Action.EXPORT, AccessLog.Basis.AUDIT, "csv"),
        (AccessLog.Action.EXPORT, AccessLog.Basis.AUDIT, "xlsx"),
    ]
    assert own[0].person_ids == [5, 6] and "person=5" in own[0].reason
    # The second export holds the first export's row too, so its persons are all of them.
    assert own[1].person_ids == [5, 6, 7]


@pytest.mark.django_db
def test_a_bad_format_or_filter_gives_a_form_error_and_no_file(personas, login, rows):
    client = login(personas.auditor)
    for params in ({"format": "pdf"}, {"format": "csv", "date_from": "令和八十年"}):
        response = export(client, **params)
        assert response.status_code == 400
        assert response["Content-Type"].startswith("text/html")
    assert not AccessLog.objects.filter(actor=personas.auditor).exists()


@pytest.mark.django_db
def test_an_export_over_the_limit_is_refused_with_a_message(personas, login, rows, monkeypatch):
    from casework.audit import selectors as audit_selectors

    monkeypatch.setattr(audit_selectors, "EXPORT_LIMIT", 1)
    response = export(login(personas.auditor), format="csv")
    assert response.status_code == 400
    assert "絞り込んでください" in response.content.decode()
    assert not AccessLog.objects.filter(actor=personas.auditor).exists()


@pytest.mark.django_db
def test_exports_name_the_object_type_in_japanese(personas, login, rows):
    """Issue 16: 対象種別 reads ケース in the CSV and the XLSX, not the code "case"."""
    client = login(personas.auditor)
    text = export(client, format="csv", actor="cw_a").content.decode("utf-8-sig")
    header, first = text.splitlines()[:2]
    column = header.split(",").index("対象種別")
    assert first.split(",")[column] == "ケース"
    sheet = openpyxl.load_workbook(io.BytesIO(export(client, format="xlsx").content)).active
    names = [cell.value for cell in sheet[1]]
    types = {row[names.index("対象種別")].value for row in sheet.iter_rows(min_row=2)}
    assert "ケース" in types and "case" not in types


def test_every_object_type_the_code_writes_has_a_japanese_label():
    """A literal object_type= anywhere in the apps must be in the labels table (else exports show その他)."""
    import re
    from pathlib import Path

    from casework.audit.labels import OBJECT_TYPE_LABELS

    root = Path(__file__).resolve().parents[2]
    literal = re.compile(r'(?:object_type|document)="([a-z_.:]+)"')
    missing = set()
    for app in ["casework", "places", "referrals", "meetings", "indicators", "config"]:
        for path in (root / app).rglob("*.py"):
            missing |= {code for code in literal.findall(path.read_text(encoding="utf-8"))} - set(OBJECT_TYPE_LABELS)
    from casework.indicators import CASES, MEETINGS, PLACES, REFERRALS

    missing |= {f"indicator:{d}" for d in (CASES, REFERRALS, MEETINGS, PLACES)} - set(OBJECT_TYPE_LABELS)
    assert not missing
