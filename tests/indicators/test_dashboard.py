"""The dashboard, drill-down and export screens: who may open them, what they show, what they log."""

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from casework.models import AccessLog
from tests.indicators.conftest import FY

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("indicators:dashboard")
EXPORT = reverse("indicators:export")


def drill(key: str) -> str:
    return reverse("indicators:drill", args=[key])


@pytest.mark.parametrize("name", ["chair", "caseworker_a", "supervisor_a", "caseworker_b", "coordinator"])
def test_case_working_staff_open_the_dashboard(world, login, name):
    response = login(getattr(world.personas, name)).get(DASHBOARD, {"fy": FY})
    assert response.status_code == 200
    assert "令和7年度" in response.content.decode()


def test_the_administrator_submits_the_yearly_report_from_the_menu(world, login):
    """Issue 16, item 10: the administrator reaches the municipality-wide figures and the export, not the records."""
    client = login(world.personas.administrator)
    page = client.get(DASHBOARD, {"fy": FY})
    assert page.status_code == 200 and page.context["choice"].municipal
    assert f'href="{DASHBOARD}"' in page.content.decode()
    assert reverse("indicators:drill", args=["casework.new_cases"]) not in page.content.decode()
    assert f'href="{DASHBOARD}"' in client.get(reverse("home")).content.decode()
    assert client.get(EXPORT, {"fy": FY, "format": "xlsx"}).status_code == 200
    assert client.get(drill("casework.new_cases"), {"fy": FY}).status_code == 404


@pytest.mark.parametrize("name", ["place_staff", "auditor"])
def test_it_returns_404_to_place_staff_and_auditors(world, login, name):
    client = login(getattr(world.personas, name))
    assert client.get(DASHBOARD).status_code == 404
    assert client.get(drill("casework.new_cases")).status_code == 404
    assert client.get(EXPORT).status_code == 404


def test_anonymous_and_deactivated_users_are_sent_to_login(world, login):
    for user in (None, world.personas.deactivated):
        response = login(user).get(DASHBOARD)
        assert response.status_code == 302
        assert reverse("login") in response["Location"]


def test_the_municipal_office_sees_municipality_wide_figures_and_may_choose_an_organization(world, login):
    client = login(world.personas.chair)
    page = client.get(DASHBOARD, {"fy": FY})
    assert page.context["choice"].scope.organization is None
    assert page.context["choice"].municipal
    rows = {r.key: r.counts.total for b in page.context["report"].businesses for g in b.groups for r in g.rows}
    assert rows["casework.new_cases"] == 3
    chosen = client.get(DASHBOARD, {"fy": FY, "org": world.personas.window_b.pk})
    assert chosen.context["choice"].scope.organization == world.personas.window_b


def test_a_window_sees_only_its_own_figures_and_cannot_choose_another(world, login):
    client = login(world.personas.caseworker_a)
    page = client.get(DASHBOARD, {"fy": FY, "org": world.personas.window_b.pk})
    assert page.status_code == 200
    assert page.context["choice"].scope.organization == world.personas.window_a
    assert "選べない機関が指定されました。" in page.content.decode()
    rows = {r.key: r.counts.total for b in page.context["report"].businesses for g in b.groups for r in g.rows}
    assert rows["casework.new_cases"] == 2
    assert "主担当機関であるケース" in page.content.decode()


def test_bad_query_values_get_a_message_not_an_error(world, login):
    client = login(world.personas.chair)
    for fy in ("abc", "%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%95", "1900", "%00", "%ED%A0%80"):
        response = client.get(f"{DASHBOARD}?fy={fy}")
        assert response.status_code == 200
        assert "年度の指定が正しくありません" in response.content.decode()
    assert client.get(drill("casework.new_cases"), {"fy": FY, "month": "13"}).status_code == 404
    assert client.get(drill("nothing.here"), {"fy": FY}).status_code == 404
    assert client.get(EXPORT, {"format": "pdf"}).status_code == 404


def test_the_page_carries_chart_data_as_json_and_no_inline_script(world, login):
    html = login(world.personas.chair).get(DASHBOARD, {"fy": FY}).content.decode()
    assert 'id="indicator-charts"' in html
    assert "vendor/chartjs/chart.umd.min.js" in html
    assert "js/dashboard.js" in html
    assert "<script>" not in html
    assert 'data-chart="consultations"' in html


def test_suppression_shows_small_numbers_as_a_dash(world, login):
    page = login(world.personas.chair).get(DASHBOARD, {"fy": FY, "suppress": "3"})
    tables = page.context["tables"]
    totals = {row.key: total for _b, groups in tables for _g, rows in groups for row, total, _cells in rows}
    assert totals["casework.new_persons"] == "-"
    assert totals["casework.domain.child"] == 0


def test_a_suppressed_month_cannot_be_worked_back_from_the_total_and_the_zeros(world, login):
    """Issue 16, item 10: a row with a hidden month hides its total too (new cases: 3 over months of 1 and 2)."""
    page = login(world.personas.chair).get(DASHBOARD, {"fy": FY, "suppress": "3"})
    for _b, groups in page.context["tables"]:
        for _g, rows in groups:
            for row, total, cells in rows:
                if any(v == "-" for _m, v in cells):
                    assert total == "-", row.key
    totals = {row.key: total for _b, groups in page.context["tables"] for _g, rows in groups for row, total, _c in rows}
    assert totals["casework.new_cases"] == "-"


def test_drilling_down_lists_only_the_viewers_cases_and_logs_the_persons(world, login):
    p = world.personas
    response = login(p.caseworker_a).get(drill("casework.new_cases"), {"fy": FY})
    assert response.status_code == 200
    assert [c.pk for c in response.context["rows"]] == [world.case2.pk, world.case1.pk]
    row = AccessLog.objects.filter(actor=p.caseworker_a, action=AccessLog.Action.LIST).latest("id")
    assert row.object_type == "indicator:case"
    assert row.person_ids == sorted(world.case1.subject_rows.values_list("person_id", flat=True))


def test_the_municipal_office_sees_the_count_but_only_records_it_may_open(world, login):
    response = login(world.personas.chair).get(drill("casework.new_cases"), {"fy": FY})
    assert response.status_code == 200
    assert response.context["total"] == 3
    assert response.context["rows"] == []
    assert response.context["hidden"] == 3
    assert not AccessLog.objects.filter(actor=world.personas.chair, action=AccessLog.Action.LIST).exists()


def test_drilling_down_by_month_lists_that_months_records(world, login):
    response = login(world.personas.caseworker_a).get(drill("casework.new_cases"), {"fy": FY, "month": 6})
    assert [c.pk for c in response.context["rows"]] == [world.case2.pk]


def test_referral_drill_down_lists_the_viewers_referrals(world, login):
    response = login(world.personas.caseworker_b).get(drill("referrals.accepted"), {"fy": FY})
    assert [r.pk for r in response.context["rows"]] == [world.inter_agency.pk]
    assert response.context["total"] == 1


def test_the_workbook_has_one_sheet_per_business_and_the_outreach_sheet_cell_by_cell(world, login):
    p = world.personas
    response = login(p.chair).get(EXPORT, {"fy": FY, "format": "xlsx"})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["包括的相談支援", "多機関協働", "アウトリーチ", "参加支援", "地域づくり"]
    cells = [[c.value for c in row] for row in book["アウトリーチ"].iter_rows()]
    header = [
        "区分",
        "項目",
        "年度計",
        "4月",
        "5月",
        "6月",
        "7月",
        "8月",
        "9月",
        "10月",
        "11月",
        "12月",
        "1月",
        "2月",
        "3月",
    ]
    section = "アウトリーチ等を通じた継続的支援"
    assert cells == [
        header,
        [section, "アウトリーチ（延べ回数）", 2, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0],
        [section, "うち不在・拒否", 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0],
        [section, "アウトリーチ（実ケース数）", 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0],
    ]
    log = AccessLog.objects.filter(actor=p.chair, action=AccessLog.Action.EXPORT).get()
    assert log.object_id == f"{FY}:all"


def test_the_csv_is_excel_ready_in_utf8_with_bom_and_in_cp932(world, login):
    client = login(world.personas.chair)
    utf8 = client.get(EXPORT, {"fy": FY, "format": "csv"}).content
    assert utf8.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(utf8.decode("utf-8-sig"))))
    assert rows[0][:4] == ["事業", "区分", "項目", "年度計"]
    assert ["アウトリーチ", "アウトリーチ等を通じた継続的支援", "うち不在・拒否", "1"] in [r[:4] for r in rows]
    cp932 = client.get(EXPORT, {"fy": FY, "format": "csv", "encoding": "cp932"}).content
    assert cp932.decode("cp932").splitlines()[0].startswith("事業,区分,項目")


def test_exported_cells_are_formula_escaped(world, login):
    from casework.models import Organization

    Organization.objects.filter(pk=world.personas.window_a.pk).update(name="=HYPERLINK(1)", short_name="")
    response = login(world.personas.chair).get(EXPORT, {"fy": FY, "format": "csv"})
    text = response.content.decode("utf-8-sig")
    assert ",=HYPERLINK" not in text
    assert "'=HYPERLINK(1)" in text


def test_a_suppressed_export_shows_dashes(world, login):
    response = login(world.personas.chair).get(EXPORT, {"fy": FY, "format": "xlsx", "suppress": "3"})
    sheet = load_workbook(io.BytesIO(response.content))["アウトリーチ"]
    assert [c.value for c in sheet[3]][:7] == [
        "アウトリーチ等を通じた継続的支援",
        "うち不在・拒否",
        "\u2010",
        0,
        0,
        0,
        "\u2010",
    ]


def test_the_dashboard_takes_a_bounded_number_of_queries(world, login, django_assert_max_num_queries):
    client = login(world.personas.chair)
    with django_assert_max_num_queries(90):
        client.get(DASHBOARD, {"fy": FY})
