"""Hostile places files: corpus values in cells (cp932, UTF-8 with and without BOM), garbage and huge files.

A value is either imported exactly as typed or the row is refused with a Japanese message and nothing
is saved. A file that cannot be read gets a Japanese message on the upload page, never a 500.
"""

import io
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from places.imports import MAX_UPLOAD_BYTES
from places.models import Place, PlaceImportJob
from tests.places.helpers import HEADER, csv_bytes
from tests.security.corpus import CORPUS, TALLY, form_bytes

pytestmark = pytest.mark.django_db
JAPANESE = ("\u3040", "\u9fff")
# The columns a person types free text into (the others are choices, checked by the resource).
TEXT_COLUMNS = ("名称", "地区", "外部ID")


def _upload(client, data: bytes, name="places.csv", content_type="text/csv", encoding="auto"):
    TALLY["hostile import uploads"] += 1
    return client.post(
        reverse("places:import"), {"file": SimpleUploadedFile(name, data, content_type), "encoding": encoding}
    )


def _japanese(text: str) -> bool:
    return any(JAPANESE[0] <= ch <= JAPANESE[1] for ch in text)


def _cells(operator: str, column: str, value: str) -> list[str]:
    cells = dict(
        zip(HEADER, ["", operator, "ひだまり", "コミュニティカフェ", "中央", "毎週水曜 10:00-12:00"], strict=False)
    )
    cells |= {"対象": "どなたでも", "活動": "料理", "配慮": "", "参加支援の受入": "はい", column: value}
    return [cells.get(h, "") for h in HEADER]


def _encode(rows, encoding: str) -> bytes | None:
    """The CSV as a spreadsheet would save it; None when the encoding cannot hold a value."""
    buffer = io.StringIO(newline="")
    import csv

    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    text = buffer.getvalue()
    try:
        return text.encode(encoding) if encoding != "utf-8-raw" else form_bytes(text)
    except UnicodeEncodeError:
        return None


def _plan():
    """(value, column) pairs: every value in every column with HOSTILE_FULL=1, else each value in one column."""
    if os.environ.get("HOSTILE_FULL") == "1":
        return [(h, c) for h in CORPUS for c in TEXT_COLUMNS]
    return [(h, TEXT_COLUMNS[i % len(TEXT_COLUMNS)]) for i, h in enumerate(CORPUS)]


@pytest.mark.parametrize("encoding", ["cp932", "utf-8-sig", "utf-8-raw"])
def test_corpus_values_in_cells_are_imported_exactly_or_refused_with_a_message(personas, login, places_media, encoding):
    client = login(personas.place_staff)
    tried = 0
    for hostile, column in _plan():
        data = _encode([_cells(personas.place_operator.name, column, hostile.value)], encoding)
        if data is None:
            continue  # cp932 cannot hold it: a spreadsheet could not have saved it either
        tried += 1
        before = set(Place.objects.values_list("pk", flat=True))
        response = _upload(client, data)
        where = f"{encoding} {column}={hostile.label}"
        assert response.status_code in {200, 302}, where
        if response.status_code == 200:
            assert _japanese(response.content.decode()), where
            assert set(Place.objects.values_list("pk", flat=True)) == before, where
            continue
        job = PlaceImportJob.objects.latest("created_at")
        page = client.get(response["Location"])
        assert page.status_code == 200, where
        if job.errors:
            assert all(_japanese(" ".join(r["errors"])) for r in job.report if r["type"] == "error"), where
            assert set(Place.objects.values_list("pk", flat=True)) == before, where
            continue
        client.post(reverse("places:import_confirm", args=[job.pk]))
        job.refresh_from_db()
        new = Place.objects.exclude(pk__in=before)
        if job.status == PlaceImportJob.Status.DONE and job.created:
            assert not hostile.must_refuse, f"{where}: stored a value that must be refused"
            place = new.get()
            field = {"名称": "name", "地区": "area", "外部ID": "external_id"}[column]
            assert getattr(place, field) == hostile.value.strip(), where
            Place.objects.filter(pk=place.pk).delete()
        else:
            assert not new.exists(), where
    assert tried


def test_a_binary_file_gets_a_message_and_imports_nothing(personas, login, places_media):
    client = login(personas.place_staff)
    garbage = bytes(range(256)) * 64
    for name in ("places.csv", "places.xlsx", "places.txt"):
        response = _upload(client, garbage, name=name, content_type="application/octet-stream")
        assert response.status_code == 200 and _japanese(response.content.decode()), name
    assert not Place.objects.exists() and not PlaceImportJob.objects.exists()


def test_an_upload_over_20_mb_gets_a_message_and_imports_nothing(personas, login, places_media):
    client = login(personas.place_staff)
    data = csv_bytes([_cells(personas.place_operator.name, "名称", "x")]) + b"#" * MAX_UPLOAD_BYTES
    response = _upload(client, data)
    assert response.status_code == 200
    assert "大きすぎます" in response.content.decode()
    assert not Place.objects.exists() and not PlaceImportJob.objects.exists()


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("places.exe", "application/x-msdownload"),
        ("places.pdf", "application/pdf"),
        ("places.csv.html", "text/html"),
        ("places", "text/csv"),
    ],
)
def test_a_wrong_extension_or_content_type_gets_a_message(personas, login, places_media, name, content_type):
    data = csv_bytes([_cells(personas.place_operator.name, "名称", "x")])
    response = _upload(login(personas.place_staff), data, name=name, content_type=content_type)
    assert response.status_code == 200 and "CSV" in response.content.decode()
    assert not Place.objects.exists() and not PlaceImportJob.objects.exists()


def test_a_csv_disguised_as_xlsx_gets_a_message(personas, login, places_media):
    data = csv_bytes([_cells(personas.place_operator.name, "名称", "x")])
    response = _upload(login(personas.place_staff), data, name="places.xlsx")
    assert response.status_code == 200 and "Excel" in response.content.decode()
    assert not Place.objects.exists()


def test_a_csv_with_100k_columns_gets_a_message(personas, login, places_media):
    client = login(personas.place_staff)
    wide_header = ",".join(HEADER + [f"列{i}" for i in range(100_000)]).encode("utf-8")
    response = _upload(client, wide_header + b"\r\n" + b"x," * 100_000 + b"\r\n")
    assert response.status_code == 200 and "列が多すぎます" in response.content.decode()
    row = ",".join(_cells(personas.place_operator.name, "名称", "x")).encode() + b"," + b"y," * 100_000
    response = _upload(client, csv_bytes([]) + row + b"\r\n")
    assert response.status_code == 200 and "見出しより多く" in response.content.decode()
    assert not Place.objects.exists() and not PlaceImportJob.objects.exists()


def test_a_very_long_line_gets_a_message(personas, login, places_media):
    cells = _cells(personas.place_operator.name, "名称", "長" * 1_000_000)
    response = _upload(login(personas.place_staff), csv_bytes([cells]))
    assert response.status_code == 200 and _japanese(response.content.decode())
    assert not Place.objects.exists()


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "multipart/form-data"])
def test_an_upload_in_the_wrong_body_format_gets_the_form_again(personas, login, places_media, content_type):
    response = login(personas.place_staff).post(reverse("places:import"), b'{"file": "x"}', content_type=content_type)
    assert response.status_code in {200, 400}
    assert not PlaceImportJob.objects.exists()
