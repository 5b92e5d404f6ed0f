"""Exporting places: BOM by default, cp932 with replacements listed, formulas neutralised everywhere."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests.factories import PlaceFactory

pytestmark = pytest.mark.django_db


def test_the_staff_export_is_utf8_with_bom_and_neutralises_formulas(personas, login):
    PlaceFactory(operator=personas.place_operator, name='=HYPERLINK("http://evil")', area="+中央", cost="-100")
    response = login(personas.place_staff).get(
        reverse("places:export"), {"file_format": "csv", "encoding": "utf-8-sig"}
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response.content.startswith(b"\xef\xbb\xbf")
    text = response.content.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'+中央" in text and "'-100" in text
    assert "\n=" not in text and ",=" not in text


def test_operator_staff_export_only_their_own_places(personas, login):
    PlaceFactory(operator=personas.place_operator, name="自団体の居場所")
    PlaceFactory(name="他団体の居場所")
    text = login(personas.place_staff).get(reverse("places:export"), {"file_format": "csv", "encoding": "utf-8-sig"})
    body = text.content.decode("utf-8-sig")
    assert "自団体の居場所" in body and "他団体の居場所" not in body


def test_a_cp932_export_lists_the_characters_it_cannot_hold_first(personas, login):
    PlaceFactory(operator=personas.place_operator, name="𠮷田の居場所①")
    client = login(personas.administrator)
    params = {"file_format": "csv", "encoding": "cp932"}
    page = client.get(reverse("places:export"), params)
    assert page["Content-Type"].startswith("text/html")
    assert "𠮷" in page.content.decode()
    download = client.get(reverse("places:export"), {**params, "confirm": "1"})
    text = download.content.decode("cp932")
    assert "〓田の居場所①" in text


def test_the_xlsx_export_neutralises_formulas(personas, login):
    import io

    from openpyxl import load_workbook

    PlaceFactory(operator=personas.place_operator, name="@SUM(A1)")
    response = login(personas.administrator).get(
        reverse("places:export"), {"file_format": "xlsx", "encoding": "utf-8-sig"}
    )
    sheet = load_workbook(io.BytesIO(response.content)).active
    names = [row[2] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert names == ["'@SUM(A1)"]


def test_the_admin_export_neutralises_formulas_too(personas, login):
    PlaceFactory(operator=personas.place_operator, name="=1+2")
    client = login(personas.administrator)
    response = client.post(
        reverse("admin:places_place_export"),
        {"format": "0", "resource": "0", **{f"placeresource_{name}": "on" for name in ["name", "operator", "kind"]}},
    )
    assert response.status_code == 200, response.content[:500]
    assert response.content.startswith(b"\xef\xbb\xbf")
    text = response.content.decode("utf-8-sig")
    assert "'=1+2" in text


def test_the_admin_import_reads_cp932(personas, login):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from places.models import Place
    from tests.places.helpers import csv_bytes, row

    client = login(personas.administrator)
    data = csv_bytes([row(personas.place_operator.name, "髙橋サロン①")], encoding="cp932")
    response = client.post(
        reverse("admin:places_place_import"),
        {"import_file": SimpleUploadedFile("p.csv", data), "format": "0", "resource": "0"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "新規" in html and "errorlist" not in html
    assert Place.objects.count() == 0


@pytest.mark.parametrize("persona", ["caseworker_a", "coordinator", "auditor"])
def test_other_roles_cannot_export(personas, login, persona):
    assert login(getattr(personas, persona)).get(reverse("places:export")).status_code == 404


@pytest.mark.parametrize("persona", ["place_staff", "caseworker_a", "auditor"])
def test_only_administrators_reach_the_places_admin(personas, login, persona):
    response = login(getattr(personas, persona)).get(reverse("admin:places_place_changelist"))
    assert response.status_code == 302  # the admin sends non-staff users to its login


def test_the_export_command_writes_bom_csv(personas, tmp_path):
    PlaceFactory(operator=personas.place_operator, name="=cmd")
    out = tmp_path / "places.csv"
    call_command("export_places", "--output", str(out))
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and "'=cmd" in data.decode("utf-8-sig")
