"""Importing places: encodings, dry run, atomicity, idempotency and the staff screen."""

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from places.imports import FileProblem, parse_places_file, run_import
from places.models import Place, PlaceImportJob, PlaceSchedule
from tests.places.helpers import HEADER, csv_bytes, row

pytestmark = pytest.mark.django_db


def _import(data, *, dry_run=False, operator=None, encoding="auto"):
    parsed = parse_places_file(data, file_format="csv", encoding=encoding, forced_operator=operator)
    return run_import(parsed, dry_run=dry_run, operator=operator)


def test_a_cp932_file_with_nec_and_ibm_characters_imports_exactly(personas):
    op = personas.place_operator.name
    data = csv_bytes([row(op, "縁側カフェ①"), row(op, "㈱みどり 髙橋食堂")], encoding="cp932")
    outcome = _import(data)
    assert outcome.created == 2 and outcome.errors == 0
    assert set(Place.objects.values_list("name", flat=True)) == {"縁側カフェ①", "㈱みどり 髙橋食堂"}


def test_a_utf8_file_with_bom_imports_and_keeps_non_bmp_names(personas):
    data = csv_bytes([row(personas.place_operator.name, "𠮷野家の居場所")], encoding="utf-8-sig")
    assert data.startswith(b"\xef\xbb\xbf")
    outcome = _import(data)
    assert outcome.created == 1
    place = Place.objects.get()
    assert place.name == "𠮷野家の居場所"
    assert place.schedule_text == "毎週水曜 10:00〜12:00"
    assert place.target_groups == ["anyone"] and place.accommodations == ["wheelchair"]
    assert place.activities == ["料理", "手芸"] and place.accepts_referrals is True


def test_an_undecodable_file_is_rejected_naming_the_line(personas):
    good = csv_bytes([row(personas.place_operator.name, "A")], encoding="utf-8")
    data = good + b"x,\xff\xfe,broken\r\n"
    with pytest.raises(FileProblem, match="3行目"):
        parse_places_file(data, file_format="csv", encoding="utf-8")


def test_one_bad_row_is_reported_with_its_row_number_and_nothing_is_saved(personas):
    op = personas.place_operator.name
    rows = [row(op, "良い行1"), row(op, "悪い行", schedule="ときどき"), row(op, "良い行2")]
    dry = _import(csv_bytes(rows), dry_run=True)
    errors = [r for r in dry.rows if r["type"] == "error"]
    assert [r["row"] for r in errors] == [3]
    assert "ときどき" in errors[0]["errors"][0]
    applied = _import(csv_bytes(rows))
    assert applied.errors == 1
    assert Place.objects.count() == 0


def test_a_dry_run_saves_nothing_and_reports_new_rows(personas):
    outcome = _import(csv_bytes([row(personas.place_operator.name, "A")]), dry_run=True)
    assert [r["type"] for r in outcome.rows] == ["new"]
    assert Place.objects.count() == 0


def test_the_same_file_twice_changes_nothing_the_second_time(personas):
    op = personas.place_operator.name
    data = csv_bytes([row(op, "A"), row(op, "B", external_id="EXT-1", schedule="第2・第4土曜 11:00～14:00")])
    first = _import(data)
    assert (first.created, first.updated) == (2, 0)
    second = _import(data)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 2)


def test_a_changed_row_is_an_update_found_by_external_id(personas):
    op = personas.place_operator.name
    _import(csv_bytes([row(op, "旧名称", external_id="EXT-9")]))
    outcome = _import(csv_bytes([row(op, "新名称", external_id="EXT-9", area="北")]))
    assert (outcome.created, outcome.updated) == (0, 1)
    place = Place.objects.get()
    assert (place.name, place.area) == ("新名称", "北")


def test_an_empty_file_is_rejected():
    for data in (b"", b"\xef\xbb\xbf", b"\r\n\r\n"):
        with pytest.raises(FileProblem, match="空"):
            parse_places_file(data, file_format="csv")


def test_a_header_without_rows_is_rejected():
    with pytest.raises(FileProblem, match="データ行がありません"):
        parse_places_file(csv_bytes([]), file_format="csv")


def test_unknown_columns_are_rejected_by_name(personas):
    data = csv_bytes([row(personas.place_operator.name, "A") + ["x"]], header=[*HEADER, "備考欄"])
    with pytest.raises(FileProblem, match="備考欄"):
        parse_places_file(data, file_format="csv")


def test_an_unknown_operator_or_kind_is_a_row_error(personas):
    rows = [row("どこにもない団体", "A"), row(personas.place_operator.name, "B", kind="レストラン")]
    outcome = _import(csv_bytes(rows), dry_run=True)
    assert outcome.errors == 2
    assert "登録されていません" in outcome.rows[0]["errors"][0]
    assert any("レストラン" in e for e in outcome.rows[1]["errors"])


def test_a_duplicate_row_in_the_file_is_an_error(personas):
    op = personas.place_operator.name
    outcome = _import(csv_bytes([row(op, "A"), row(op, "A")]), dry_run=True)
    assert outcome.rows[1]["type"] == "error" and "2行目" in outcome.rows[1]["errors"][0]


def test_operator_staff_rows_for_another_operator_are_errors(personas):
    other = personas.window_a.name
    rows = [row(other, "他団体の居場所"), row("", "自団体の居場所")]
    outcome = _import(csv_bytes(rows), dry_run=True, operator=personas.place_operator)
    assert [r["type"] for r in outcome.rows] == ["error", "new"]


def test_operator_staff_cannot_take_over_another_operators_place_by_external_id(personas):
    from tests.factories import PlaceFactory

    PlaceFactory(external_id="EXT-X", name="よその居場所")
    data = csv_bytes([row("", "乗っ取り", external_id="EXT-X")])
    outcome = _import(data, operator=personas.place_operator)
    assert outcome.errors == 1
    assert Place.objects.get(external_id="EXT-X").name == "よその居場所"


def test_the_command_dry_run_and_import(personas, tmp_path, capsys):
    path = tmp_path / "places.csv"
    path.write_bytes(csv_bytes([row(personas.place_operator.name, "髙橋カフェ①")], encoding="cp932"))
    call_command("import_places", str(path), "--dry-run", "--encoding", "cp932")
    assert Place.objects.count() == 0
    call_command("import_places", str(path))
    call_command("import_places", str(path))
    out = capsys.readouterr().out
    assert "新規 1 件" in out and "新規 0 件、更新 0 件、変更なし 1 件" in out
    assert Place.objects.get().name == "髙橋カフェ①"


def test_the_command_fails_on_a_bad_row(personas, tmp_path):
    path = tmp_path / "places.csv"
    path.write_bytes(csv_bytes([row(personas.place_operator.name, "A", schedule="毎日")]))
    with pytest.raises(CommandError, match="何も保存していません"):
        call_command("import_places", str(path))
    assert Place.objects.count() == 0


def test_the_sample_file_imports_in_the_demo(db):
    from pathlib import Path

    from casework.management.commands.seed_demo import Command as SeedDemo

    call_command(SeedDemo())
    sample = Path(__file__).resolve().parents[2] / "places" / "samples" / "places_sample_cp932.csv"
    parsed = parse_places_file(sample.read_bytes(), file_format="csv")
    assert parsed.encoding == "cp932"
    outcome = run_import(parsed, dry_run=False)
    assert outcome.errors == 0 and outcome.created == 3
    assert Place.objects.filter(name="髙橋さんちの子ども食堂").exists()


def test_an_import_of_several_batches_saves_every_row(personas):
    """1,200 rows cross every batch boundary: places go in 500 at a time, schedules 1,000 at a time.

    The 10,000-row import (time and memory) is the benchmark's (bench/run.py, which checks the count too).
    """
    op = personas.place_operator.name
    rows = [row(op, f"居場所{n:05d}", external_id=f"BULK-{n}") for n in range(1_200)]
    parsed = parse_places_file(csv_bytes(rows, encoding="cp932"), file_format="csv")
    outcome = run_import(parsed, dry_run=False)
    assert (outcome.created, outcome.errors) == (1_200, 0)
    assert Place.objects.count() == 1_200
    assert PlaceSchedule.objects.count() == 1_200
    for n in (0, 499, 500, 999, 1_000, 1_199):
        assert Place.objects.get(external_id=f"BULK-{n}").schedules.count() == 1


def test_a_changed_schedule_replaces_the_old_one_and_the_search_text_follows(personas):
    op = personas.place_operator.name
    _import(csv_bytes([row(op, "カフェ旧", external_id="EXT-5", schedule="毎週水曜 10:00-12:00")]))
    outcome = _import(csv_bytes([row(op, "髙橋カフェ", external_id="EXT-5", schedule="毎週金曜 13:00-15:00")]))
    assert (outcome.created, outcome.updated) == (0, 1)
    place = Place.objects.get()
    assert [s.weekday for s in place.schedules.all()] == [4]
    assert "高橋" in place.search_text


def test_the_statement_count_does_not_grow_with_the_rows(personas, django_assert_max_num_queries):
    """Bulk saving (issue 9): 500 places take about as many statements as 5, not four a row."""
    op = personas.place_operator.name
    rows = [row(op, f"居場所{n:03d}", external_id=f"Q-{n}") for n in range(500)]
    parsed = parse_places_file(csv_bytes(rows), file_format="csv")
    with django_assert_max_num_queries(20):
        outcome = run_import(parsed, dry_run=False)
    assert outcome.created == 500 and Place.objects.count() == 500


# --- the staff screen -------------------------------------------------------------


def _upload(client, data, name="places.csv", encoding="auto"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        reverse("places:import"), {"file": SimpleUploadedFile(name, data, "text/csv"), "encoding": encoding}
    )


def test_an_administrator_sees_the_dry_run_then_confirms(personas, login, places_media):
    client = login(personas.administrator)
    op = personas.place_operator.name
    response = _upload(client, csv_bytes([row(op, "縁側①"), row(op, "㈱髙田")], encoding="cp932"))
    assert response.status_code == 302
    job = PlaceImportJob.objects.get()
    assert job.status == PlaceImportJob.Status.CHECKED
    page = client.get(response["Location"]).content.decode()
    assert "縁側①" in page and "この内容で反映する" in page
    assert Place.objects.count() == 0
    client.post(reverse("places:import_confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == PlaceImportJob.Status.DONE and job.created == 2
    assert Place.objects.count() == 2


def test_the_screen_shows_a_bad_row_and_offers_no_confirm(personas, login, places_media):
    client = login(personas.administrator)
    op = personas.place_operator.name
    response = _upload(client, csv_bytes([row(op, "A"), row(op, "B", kind="不明")]))
    page = client.get(response["Location"]).content.decode()
    assert "エラーの行" in page and "この内容で反映する" not in page
    job = PlaceImportJob.objects.get()
    response = client.post(reverse("places:import_confirm", args=[job.pk]))
    assert Place.objects.count() == 0


def test_the_screen_explains_a_file_problem(personas, login, places_media):
    response = _upload(login(personas.administrator), b"")
    assert response.status_code == 200
    assert "空" in response.content.decode()
    assert PlaceImportJob.objects.count() == 0


def test_operator_staff_import_only_for_their_own_operator(personas, login, places_media):
    client = login(personas.place_staff)
    data = csv_bytes([["", "自分の居場所", "サロン"]], header=["外部ID", "名称", "種別"])
    response = _upload(client, data)
    job = PlaceImportJob.objects.get()
    client.post(reverse("places:import_confirm", args=[job.pk]))
    assert response.status_code == 302
    assert Place.objects.get().operator == personas.place_operator


def test_an_import_job_is_only_visible_to_its_uploader(personas, login, places_media):
    response = _upload(login(personas.administrator), csv_bytes([row(personas.place_operator.name, "A")]))
    url = response["Location"]
    assert login(personas.place_staff).get(url).status_code == 404
    job = PlaceImportJob.objects.get()
    assert login(personas.place_staff).post(reverse("places:import_confirm", args=[job.pk])).status_code == 404


@pytest.mark.parametrize("persona", ["caseworker_a", "supervisor_a", "coordinator", "auditor", "chair"])
def test_other_roles_cannot_import(personas, login, persona):
    assert login(getattr(personas, persona)).get(reverse("places:import")).status_code == 404


def test_the_progress_fragment_polls_while_running(personas, login, places_media):
    job = PlaceImportJob.objects.create(
        created_by=personas.administrator, file_name="big.csv", file_format="csv", total=5000, processed=1200
    )
    response = login(personas.administrator).get(job.get_absolute_url(), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert 'hx-trigger="every 1s"' in html and "1200 / 5000" in html


@pytest.mark.django_db(transaction=True)
def test_a_large_file_runs_on_the_job_queue(personas, login, places_media, monkeypatch):
    from django.core.management import call_command
    from django_tasks_db.models import DBTaskResult

    from places import imports

    monkeypatch.setattr(imports, "SYNC_ROW_LIMIT", 5)
    client = login(personas.administrator)
    rows = [row(personas.place_operator.name, f"P{n}") for n in range(20)]
    response = _upload(client, csv_bytes(rows))
    job = PlaceImportJob.objects.get()
    # Queued in the upload's transaction, not run in the request.
    assert job.status == PlaceImportJob.Status.CHECKING
    assert DBTaskResult.objects.get().task_path == "places.tasks.run_import_job"
    call_command("run_worker", "--batch", "--no-reload", "--no-startup-delay", verbosity=0)
    job.refresh_from_db()
    assert job.status == PlaceImportJob.Status.CHECKED and job.created == 20
    client.post(reverse("places:import_confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == PlaceImportJob.Status.APPLYING
    call_command("run_worker", "--batch", "--no-reload", "--no-startup-delay", verbosity=0)
    job.refresh_from_db()
    assert job.status == PlaceImportJob.Status.DONE
    assert Place.objects.count() == 20
    assert response.status_code == 302
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}


def test_a_nul_in_a_cell_is_refused_naming_the_row(personas):
    data = csv_bytes([row(personas.place_operator.name, "A"), row(personas.place_operator.name, "B\x00")])
    with pytest.raises(FileProblem, match="3行目.*NUL"):
        parse_places_file(data, file_format="csv")
