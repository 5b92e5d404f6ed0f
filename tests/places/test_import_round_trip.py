"""Importing the same places twice, or an export back in, changes nothing (issue 16, item 12)."""

import pytest

from places.exports import export_places
from places.imports import parse_places_file, run_import
from places.models import Place, PlaceSchedule
from places.schedules import parse_schedules
from tests.factories import PlaceFactory
from tests.places.helpers import csv_bytes, row

pytestmark = pytest.mark.django_db

OUT_OF_ORDER = "第1・第3日曜 11:30～13:30、毎週土曜 10:00～11:00"


def _import(data, *, dry_run=False, file_format="csv"):
    return run_import(parse_places_file(data, file_format=file_format), dry_run=dry_run)


def test_slots_written_out_of_weekday_order_import_twice_as_a_no_op(personas):
    data = csv_bytes([row(personas.place_operator.name, "こども食堂ひまわり", schedule=OUT_OF_ORDER)])
    assert _import(data).created == 1
    ids = sorted(PlaceSchedule.objects.values_list("id", flat=True))
    dry = _import(data, dry_run=True)
    assert (dry.created, dry.updated, dry.unchanged) == (0, 0, 1)
    again = _import(data)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    assert sorted(PlaceSchedule.objects.values_list("id", flat=True)) == ids


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_an_export_imported_again_keeps_neutralised_cells_as_they_were(personas, file_format):
    PlaceFactory(
        operator=personas.place_operator,
        name="ひだまりカフェ",
        contact_phone="+81-3-1234-5678",
        area="-東地区",
        external_id="EXT-1",
    )
    exported = export_places(Place.objects.all(), file_format=file_format)
    outcome = _import(exported.content, file_format=file_format)
    assert outcome.errors == 0, outcome.rows
    place = Place.objects.get()
    assert place.contact_phone == "+81-3-1234-5678" and place.area == "-東地区"
    assert outcome.updated == 0


def test_schedules_read_times_written_in_kanji():
    assert [s.display() for s in parse_schedules("毎週水曜 10時から12時")] == ["毎週水曜 10:00〜12:00"]
    assert [s.display() for s in parse_schedules("第1日曜 9時半～11時30分まで")] == ["第1日曜 09:30〜11:30"]


def test_a_row_reports_every_problem_it_has_not_only_the_first(personas):
    bad = row("どこにもない団体", "", kind="レストラン", schedule="ときどき")
    outcome = _import(csv_bytes([bad]), dry_run=True)
    errors = outcome.rows[0]["errors"]
    assert any("名称" in e for e in errors)
    assert any("登録されていません" in e for e in errors)
    assert any("レストラン" in e for e in errors)
    assert any("ときどき" in e for e in errors)
