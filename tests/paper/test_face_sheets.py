"""The フェイスシート and 相談受付票: who may print them, what they hold and withhold, and their log rows."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from casework.models import AccessLog, Consent
from casework.services.cases import case_team_add
from casework.services.consent import consent_record
from casework.services.family import relative_add, support_tie_add
from tests.factories import PersonFactory, make_case
from tests.paper.helpers import last_row, pdf_pages, pdf_text, save_page_one

pytestmark = pytest.mark.django_db

# Planted in every field the 本人同意なし sheet must not carry.
MARKERS = {
    "family_name": "𠮷髙",
    "given_name": "秘匿名マーカー",
    "family_name_kana": "ヒトクメイ",
    "given_name_kana": "マーカー",
    "street": "住所マーカー町1-2-3",
    "phone": "090-9999-0001",
    "preferred_name": "呼称マーカー",
}


@pytest.fixture
def marked_case(personas):
    person = PersonFactory(birth_date=date(1961, 4, 10), gender="male", **MARKERS)
    son = PersonFactory(family_name="𠮷髙", given_name="<script>alert(1)</script>", gender="male")
    case = make_case(lead_organization=personas.window_a, by=personas.caseworker_a, persons=[person, son])
    case.summary = "主訴マーカー：近所の方から相談"
    case.save()
    for p in (person, son):
        consent_record(
            person=p,
            case=case,
            given_on=date(2025, 4, 1),
            method=Consent.Method.WRITTEN,
            explained_by=personas.caseworker_a,
            scope_kind=Consent.ScopeKind.CASE_TEAM,
            purposes=["share_with_agencies"],
            by=personas.caseworker_a,
        )
    case_team_add(case=case, organization=personas.coordinator_org, by=personas.caseworker_a)
    relative_add(
        case=case,
        by=personas.caseworker_a,
        name='親族"マーカー',
        relationship="spouse",
        gender="female",
        is_deceased=True,
        died_on=date(2020, 1, 5),
        partnership="bereaved",
    )
    support_tie_add(
        case=case, by=personas.caseworker_a, name="民生委員マーカー", kind="commissioner", strength="strong"
    )
    return case


def test_the_face_sheet_pdf_holds_the_persons_as_typed_in_wareki_with_the_footer(login, personas, marked_case):
    client = login(personas.caseworker_a)
    response = client.get(reverse("casework:pdf_face_sheet", args=[marked_case.pk]))
    text = pdf_text(response)
    save_page_one(response, "face_sheet")
    assert "フェイスシート" in text and "本人同意あり" in text
    assert "𠮷髙" in text and "秘匿名マーカー" in text and "住所マーカー町1-2-3" in text
    assert "昭和36年4月10日" in text  # 和暦
    assert marked_case.number in text
    assert "民生委員マーカー" in text and '親族"マーカー' in text
    assert "<script>alert(1)</script>" in text  # as typed, as text
    assert "出力者" in text and "佐藤一郎" in text and "出力日時" in text and "取扱注意（要配慮個人情報）" in text
    assert "1/" in text
    assert response["Content-Disposition"].startswith("attachment;")
    row = last_row(personas.caseworker_a, "face_sheet")
    assert row.action == AccessLog.Action.EXPORT and row.object_id == str(marked_case.pk)
    assert set(row.person_ids) == set(marked_case.subject_rows.values_list("person_id", flat=True))
    assert row.basis == AccessLog.Basis.OWN_ORGANIZATION


def test_every_page_carries_the_footer_and_a_page_number(login, personas, marked_case):
    response = login(personas.caseworker_a).get(reverse("casework:pdf_face_sheet", args=[marked_case.pk]))
    from io import BytesIO

    from pypdf import PdfReader

    pages = PdfReader(BytesIO(response.content)).pages
    total = pdf_pages(response)
    assert total >= 2
    for number, page in enumerate(pages, start=1):
        text = "".join((page.extract_text() or "").split())
        assert "取扱注意（要配慮個人情報）" in text and f"{number}/{total}" in text


def test_the_print_view_is_the_same_form_without_buttons_and_logs_printing(login, personas, marked_case):
    client = login(personas.caseworker_a)
    response = client.get(reverse("casework:print_face_sheet", args=[marked_case.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<button" not in html and "<form" not in html and "<script" not in html.replace("&lt;script", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "親族&quot;マーカー" in html
    assert "<svg" in html and "取扱注意（要配慮個人情報）" in html
    assert last_row(personas.caseworker_a, "face_sheet").action == AccessLog.Action.PRINT


def test_the_no_consent_sheet_withholds_names_dates_addresses_and_drawings(login, personas, marked_case):
    client = login(personas.caseworker_a)
    response = client.get(reverse("casework:pdf_intake_sheet", args=[marked_case.pk]))
    text = pdf_text(response)
    save_page_one(response, "intake_sheet_no_consent")
    assert "相談受付票" in text and "本人同意なし" in text
    for marker in [*MARKERS.values(), "主訴マーカー", "民生委員マーカー", "親族", "昭和36", "1961", "alert"]:
        assert marker not in text, marker
    assert "60代" in text  # the age band instead of the birth date
    assert "取扱注意（要配慮個人情報）" in text
    html = client.get(reverse("casework:print_intake_sheet", args=[marked_case.pk])).content.decode()
    for marker in [*MARKERS.values(), "主訴マーカー", "民生委員マーカー", "<svg"]:
        assert marker not in html, marker
    row = last_row(personas.caseworker_a, "intake_sheet_no_consent")
    assert row.action == AccessLog.Action.PRINT


def test_the_blank_intake_sheet_prints_for_case_workers_only(login, personas):
    response = login(personas.caseworker_b).get(reverse("casework:pdf_intake_blank"))
    text = pdf_text(response)
    save_page_one(response, "intake_sheet_blank")
    assert "相談受付票" in text and "□昭和" in text and "取扱注意（要配慮個人情報）" in text
    row = last_row(personas.caseworker_b, "intake_sheet_blank")
    assert row.action == AccessLog.Action.EXPORT and row.person_ids == []
    for outsider in (personas.place_staff, personas.auditor, personas.administrator):
        assert login(outsider).get(reverse("casework:pdf_intake_blank")).status_code == 404


@pytest.mark.parametrize("name", ["pdf_face_sheet", "print_face_sheet", "pdf_intake_sheet", "genogram", "ecomap"])
def test_outsiders_get_404_and_a_denied_row(login, personas, marked_case, name):
    url = reverse(f"casework:{name}", args=[marked_case.pk])
    for outsider in (personas.caseworker_b, personas.place_staff, personas.auditor, personas.administrator):
        assert login(outsider).get(url).status_code == 404
    assert AccessLog.objects.filter(
        actor=personas.caseworker_b, outcome=AccessLog.Outcome.DENIED, object_id=str(marked_case.pk)
    ).exists()
    # The team's coordinator and the lead's supervisor may.
    assert login(personas.coordinator).get(url).status_code == 200
    assert login(personas.supervisor_a).get(url).status_code == 200


def test_the_secret_address_stays_hidden_from_the_team(login, personas, marked_case):
    person = marked_case.subjects.order_by("id").first()
    person.address_secret = True
    person.save()
    text = pdf_text(login(personas.coordinator).get(reverse("casework:pdf_face_sheet", args=[marked_case.pk])))
    assert "住所マーカー町" not in text and "住所秘匿" in text
    text = pdf_text(login(personas.caseworker_a).get(reverse("casework:pdf_face_sheet", args=[marked_case.pk])))
    assert "住所マーカー町" in text


def test_the_pdf_renderer_loads_only_this_sites_static_files():
    from casework.paper import PDF_BASE_URL, static_path_for

    assert static_path_for(PDF_BASE_URL + "static/css/paper.css") is not None
    for url in [
        "https://example.com/static/css/paper.css",
        "file:///etc/passwd",
        PDF_BASE_URL + "static/../../config/settings.py",
        PDF_BASE_URL + "media/consent_forms/x.pdf",
        PDF_BASE_URL + "static/css/paper.css?x=1",
        "http://127.0.0.1:8000/static/css/paper.css",
    ]:
        assert static_path_for(url) is None, url
    from casework.paper import html_to_pdf

    # A page asking for an outside image or stylesheet still renders, without fetching it.
    pdf = html_to_pdf('<img src="http://127.0.0.1:9/x.png"><link rel="stylesheet" href="file:///etc/passwd">本文')
    assert pdf.startswith(b"%PDF-")
