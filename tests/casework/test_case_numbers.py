"""Case numbers typed any way an IME or a hurried worker types them find the case (issue 16, item 5)."""

import pytest
from django.urls import reverse

from casework.forms import BreakGlassForm
from core.japanese import normalize_case_number

REASON = "夜間に本人から緊急の電話があり、状況を確認するため"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Ｒ８－０００００７", "R8-000007"),
        ("R8-7", "R8-000007"),
        ("r8-7", "R8-000007"),
        ("r８ー７", "R8-000007"),
        (" R8 - 000007 ", "R8-000007"),
        ("H30-12", "H30-000012"),
    ],
)
def test_every_spelling_becomes_the_stored_number(typed, stored):
    assert normalize_case_number(typed) == stored


@pytest.mark.parametrize("typed", ["Ｒ８－０００００７", "R8-7", "r8-7"])
def test_the_break_glass_form_reads_every_spelling(typed):
    form = BreakGlassForm({"number": typed, "reason": REASON})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["number"] == "R8-000007"


def test_the_break_glass_form_explains_a_number_it_cannot_read():
    form = BreakGlassForm({"number": "山田", "reason": REASON})
    assert not form.is_valid()
    assert "R7-000123" in form.errors["number"][0]


def test_break_glass_finds_the_case_from_a_short_full_width_number(personas, case_a, login):
    era, seq = case_a.number.split("-")
    typed = f"{era.lower()}－{int(seq)}".translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    response = login(personas.caseworker_b).post(reverse("casework:break_glass"), {"number": typed, "reason": REASON})
    assert response.status_code == 302 and response["Location"] == case_a.get_absolute_url()


@pytest.mark.parametrize("shape", ["short", "full_width", "lower"])
def test_the_case_list_finds_a_case_by_any_spelling(personas, case_a, login, shape):
    era, seq = case_a.number.split("-")
    typed = {
        "short": f"{era}-{int(seq)}",
        "full_width": case_a.number.translate(str.maketrans("R0123456789-", "Ｒ０１２３４５６７８９－")),
        "lower": f"{era.lower()}-{int(seq)}",
    }[shape]
    page = login(personas.caseworker_a).get(reverse("casework:case_list"), {"q": typed})
    assert case_a.number in page.content.decode()
