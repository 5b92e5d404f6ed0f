"""Formula-prefixed text never reaches a spreadsheet as a formula: every export is read back cell by cell.

The places export, the referral inbox CSV, the access-log export and the indicators report are
filled with the corpus's formula values and opened with csv and openpyxl; every text cell that
starts like a formula must start with "'" (core.spreadsheets.neutralise_formula).
"""

import csv
import io
import re

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from core.spreadsheets import neutralise_formula
from tests.security.corpus import CORPUS, TALLY

pytestmark = pytest.mark.django_db

FORMULAS = [h.value for h in CORPUS if h.formula]
TRIGGERS = tuple("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
NUMBER = re.compile(r"-?\d+(\.\d+)?")


def _cells(response, *, encoding="utf-8-sig") -> list[str]:
    """Every cell of a downloaded CSV or XLSX, as text."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if content[:2] == b"PK":
        workbook = load_workbook(io.BytesIO(content))
        cells = []
        for sheet in workbook.worksheets:
            for row in sheet.iter_rows(values_only=True):
                cells += [c for c in row if isinstance(c, str)]
        return cells
    return [c for row in csv.reader(io.StringIO(content.decode(encoding), newline="")) for c in row]


def assert_no_live_formula(cells: list[str], where: str) -> None:
    TALLY["exported cells read back"] += len(cells)
    for cell in cells:
        if cell.startswith(TRIGGERS) and not NUMBER.fullmatch(cell):
            raise AssertionError(f"{where}: a cell starts like a formula: {cell[:40]!r}")


def assert_neutralised(cells: list[str], values: list[str], where: str) -> None:
    """The typed values are there, prefixed (their stored form: surrounding whitespace stripped)."""
    for value in values:
        expected = neutralise_formula(value.strip())
        assert any(expected in cell for cell in cells), f"{where}: {expected!r} missing"


def _places(personas):
    from tests.factories import PlaceFactory

    places = []
    for i, value in enumerate(FORMULAS):
        places.append(
            PlaceFactory(
                operator=personas.place_operator,
                name=value.strip(),
                area=value.strip(),
                description=value,
                external_id=f"EXT-{i}",
            )
        )
    return places


@pytest.mark.parametrize(("file_format", "encoding"), [("csv", "utf-8-sig"), ("csv", "cp932"), ("xlsx", "utf-8-sig")])
def test_the_places_export_neutralises_every_formula(personas, login, file_format, encoding):
    _places(personas)
    response = login(personas.place_staff).get(
        reverse("places:export"), {"file_format": file_format, "encoding": encoding, "confirm": "1"}
    )
    assert response.status_code == 200
    cells = _cells(response, encoding=encoding)
    assert_no_live_formula(cells, f"places {file_format} {encoding}")
    assert_neutralised(cells, [v for v in FORMULAS if v.strip()[:1] != "\uff1d" or encoding != "cp932"], "places")


def test_the_referral_inbox_csv_neutralises_every_formula(personas, login, case_a, place):
    from tests.factories import make_referral

    for value in FORMULAS:
        make_referral(
            kind="participation",
            case=case_a,
            by=personas.caseworker_a,
            sender=personas.window_a,
            place=place,
            card_preferred_name=value.strip(),
            card_wishes=value,
            card_accommodations=value,
            card_schedule=value,
        )
    response = login(personas.place_staff).get(reverse("referrals:inbox_csv"))
    assert response.status_code == 200
    cells = _cells(response)
    assert_no_live_formula(cells, "referral inbox")
    assert_neutralised(cells, FORMULAS, "referral inbox")


@pytest.mark.parametrize("fmt", ["csv", "csv_cp932", "xlsx"])
def test_the_access_log_export_neutralises_every_formula(personas, login, fmt):
    from casework.services.break_glass import break_glass_open
    from tests.factories import MembershipFactory, UserFactory, make_case

    case = make_case(lead_organization=personas.window_b, by=personas.caseworker_b)
    reasons = [f"{value}夜間に本人から緊急の電話があったため" for value in FORMULAS]
    for reason in reasons:
        break_glass_open(user=personas.caseworker_a, case=case, reason=reason)
    # Usernames may start with - + or @ too, and the log copies them.
    for name in ("-2+3", "+cmd", "@SUM"):
        user = MembershipFactory(user=UserFactory(username=name), organization=personas.window_a).user
        login(user).get(reverse("casework:case_list"))
    response = login(personas.auditor).get(reverse("audit:export"), {"format": fmt})
    assert response.status_code == 200
    cells = _cells(response, encoding="cp932" if fmt == "csv_cp932" else "utf-8-sig")
    assert_no_live_formula(cells, f"audit {fmt}")
    expected = [r for r in reasons if fmt != "csv_cp932" or not r.startswith("\uff1d")]
    assert_neutralised(cells, [*expected, "-2+3", "+cmd", "@SUM"], "audit")


@pytest.mark.parametrize(("fmt", "encoding"), [("csv", "utf-8-sig"), ("csv", "cp932"), ("xlsx", "utf-8-sig")])
def test_the_indicators_export_has_no_live_formula(personas, login, fmt, encoding):
    from tests.factories import make_case

    personas.window_a.name = "=1+1 相談窓口"
    personas.window_a.save()
    _places(personas)
    make_case(lead_organization=personas.window_a, by=personas.caseworker_a)
    response = login(personas.caseworker_a).get(reverse("indicators:export"), {"format": fmt, "encoding": encoding})
    assert response.status_code == 200
    assert_no_live_formula(_cells(response, encoding=encoding), f"indicators {fmt} {encoding}")
