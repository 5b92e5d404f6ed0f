"""The genogram and ecomap: standard symbols, the household enclosed, only what the viewer may see, safe SVG."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

import pytest
from django.urls import reverse

from casework.models import AccessLog
from casework.paper import drawings
from casework.services.family import relative_add, support_tie_add
from tests.factories import PersonFactory, make_case
from tests.paper.helpers import SCREENSHOTS, last_row

pytestmark = pytest.mark.django_db
SVG = "{http://www.w3.org/2000/svg}"


def _eighty_fifty(personas):
    mother = PersonFactory(family_name="山田", given_name="ハル", gender="female", birth_date=date(1943, 9, 12))
    son = PersonFactory(family_name="山田", given_name="一郎", gender="male", birth_date=date(1972, 1, 20))
    case = make_case(lead_organization=personas.window_a, by=personas.caseworker_a, persons=[mother, son])
    relative_add(
        case=case,
        by=personas.caseworker_a,
        name="山田　正",
        relationship="spouse",
        gender="male",
        is_deceased=True,
        partnership="bereaved",
        age=74,
    )
    relative_add(case=case, by=personas.caseworker_a, name="鈴木　恵子", relationship="child", gender="female", age=51)
    support_tie_add(
        case=case, by=personas.caseworker_a, name="長女", kind="family", strength="weak", quality="stressful"
    )
    return case, mother, son


def _nodes(svg: str) -> dict[str, ET.Element]:
    root = ET.fromstring(svg)  # noqa: S314 - our own cleaned output
    return {g.get("id"): g for g in root.iter(f"{SVG}g") if g.get("class", "").split()[:1] != ["edge"] and g.get("id")}


def test_the_8050_genogram_draws_symbols_couple_children_and_the_household(login, personas):
    case, mother, son = _eighty_fifty(personas)
    client = login(personas.caseworker_a)
    response = client.get(reverse("casework:genogram", args=[case.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    svg = response.content.decode()
    nodes = _nodes(svg.split("\n", 1)[1])
    mother_node, son_node = nodes[f"genogram-p{mother.pk}"], nodes[f"genogram-p{son.pk}"]
    # ○ female, □ male, both doubled as persons of concern.
    assert mother_node.find(f"{SVG}ellipse") is not None and len(mother_node.findall(f"{SVG}ellipse")) == 2
    assert len(son_node.findall(f"{SVG}polygon")) == 2
    # The deceased husband is crossed out.
    husband = next(g for key, g in nodes.items() if "deceased" in g.get("class", ""))
    assert husband.find(f"{SVG}path") is not None
    assert "山田　正（故）" in svg and "鈴木　恵子" in svg and ("83" in svg or "82" in svg)
    # The current household is enclosed.
    assert "同居世帯" in svg
    dot = drawings.genogram_dot(drawings.genogram_figures(case))
    assert "u_self -- r" in dot and f"u_self_kids -- p{son.pk}" in dot
    row = last_row(personas.caseworker_a, "genogram")
    assert row.action == AccessLog.Action.VIEW and set(row.person_ids) == {mother.pk, son.pk}
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "genogram_8050.svg").write_text(svg, encoding="utf-8")


def test_the_young_carer_genogram_hangs_the_children_from_their_parent(login, personas):
    pupil = PersonFactory(family_name="𠮷田", given_name="みく", gender="female", birth_date=date(2012, 5, 1))
    mother = PersonFactory(family_name="𠮷田", given_name="恵", gender="female", birth_date=date(1985, 1, 1))
    brother = PersonFactory(family_name="𠮷田", given_name="蓮", gender="male", birth_date=date(2017, 7, 7))
    case = make_case(lead_organization=personas.window_a, by=personas.caseworker_a, persons=[pupil])
    from casework.services.persons import household_add_member

    household_add_member(household=case.household, person=mother, relationship="parent", by=personas.caseworker_a)
    household_add_member(household=case.household, person=brother, relationship="sibling", by=personas.caseworker_a)
    dot = drawings.genogram_dot(drawings.genogram_figures(case))
    hub = "u_parents_kids"
    assert f"p{mother.pk} -- {hub}" in dot
    assert f"{hub} -- p{pupil.pk}" in dot and f"{hub} -- p{brother.pk}" in dot
    svg = login(personas.caseworker_a).get(reverse("casework:genogram", args=[case.pk])).content.decode()
    assert "𠮷田　みく" in svg and "𠮷田　蓮" in svg


def test_a_person_of_another_household_is_absent(login, personas):
    case, mother, son = _eighty_fifty(personas)
    stranger = make_case(
        lead_organization=personas.window_b, by=personas.caseworker_b, family_name="他人", given_name="見えない"
    )
    svg = login(personas.caseworker_a).get(reverse("casework:genogram", args=[case.pk])).content.decode()
    assert "見えない" not in svg
    assert login(personas.caseworker_a).get(reverse("casework:genogram", args=[stranger.pk])).status_code == 404


def test_the_ecomap_draws_the_team_and_supports_weighted_and_marked(login, personas):
    case, *_ = _eighty_fifty(personas)
    svg = login(personas.caseworker_a).get(reverse("casework:ecomap", args=[case.pk])).content.decode()
    assert personas.window_a.name in svg and "長女" in svg and "ストレス" in svg
    assert 'stroke="#b3261e"' in svg  # the stressful tie in red
    assert last_row(personas.caseworker_a, "ecomap").action == AccessLog.Action.VIEW


def test_names_cannot_become_markup_in_a_drawing(login, personas):
    person = PersonFactory(family_name='<script>alert("x")</script>', given_name='"onload=alert(1)', gender="male")
    case = make_case(lead_organization=personas.window_a, by=personas.caseworker_a, persons=[person])
    support_tie_add(case=case, by=personas.caseworker_a, name="<a href='javascript:alert(1)'>x</a>", kind="other")
    for name in ("genogram", "ecomap"):
        response = login(personas.caseworker_a).get(reverse(f"casework:{name}", args=[case.pk]))
        svg = response.content.decode()
        assert (
            "<script" not in svg
            and "<a " not in svg
            and "javascript:" not in svg.replace("javascript:alert(1)'&gt;", "")
        )
        assert "&lt;script&gt;" in svg
        assert response["Content-Security-Policy"].startswith("default-src 'none'")
        root = ET.fromstring(svg.split("\n", 1)[1])  # noqa: S314 - our own cleaned output
        assert {el.tag.rsplit("}", 1)[-1] for el in root.iter()} <= drawings.ALLOWED_ELEMENTS


def test_the_family_form_is_the_lead_organizations(login, personas):
    case, *_ = _eighty_fifty(personas)
    url = reverse("casework:family_edit", args=[case.pk])
    response = login(personas.caseworker_a).post(
        url,
        {"form": "relative", "relative-relationship": "sibling", "relative-name": "山田　次郎", "relative-age": "５０"},
    )
    assert response.status_code == 302
    assert case.household.relatives.filter(name="山田　次郎", age=50).exists()
    bad = login(personas.caseworker_a).post(url, {"form": "relative", "relative-relationship": "self"})
    assert bad.status_code == 200 and "入力内容を確認してください" in bad.content.decode()
    response = login(personas.caseworker_a).post(
        url, {"form": "support", "support-name": "自治会長", "support-kind": "community", "support-strength": "strong",
              "support-quality": "supportive"}
    )  # fmt: skip
    assert response.status_code == 302 and case.support_ties.filter(name="自治会長").exists()
    # The team's coordinator sees the page but cannot change it; another window gets 404.
    case_team = case.team_rows.count()
    from casework.services.cases import case_team_add

    if case_team == 1:
        from casework.models import Consent
        from casework.services.consent import consent_record

        for p in case.subjects.all():
            consent_record(
                person=p, case=case, given_on=date(2025, 4, 1), method=Consent.Method.WRITTEN,
                explained_by=personas.caseworker_a, scope_kind=Consent.ScopeKind.CASE_TEAM,
                purposes=["share_with_agencies"], by=personas.caseworker_a,
            )  # fmt: skip
        case_team_add(case=case, organization=personas.coordinator_org, by=personas.caseworker_a)
    assert login(personas.coordinator).get(url).status_code == 200
    assert login(personas.coordinator).post(url, {"form": "support", "support-name": "x"}).status_code == 404
    assert login(personas.caseworker_b).get(url).status_code == 404
