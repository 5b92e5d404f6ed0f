"""Matching a person's wishes to places that accept referrals."""

from datetime import time

import pytest
from django.urls import reverse

from places.services import PlaceWishes, place_match
from tests.factories import PlaceFactory, PlaceScheduleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def places(personas):
    cooking = PlaceFactory(
        name="料理の会", area="中央", activities=["料理", "食事"], accommodations=["written_conversation"]
    )
    PlaceScheduleFactory(place=cooking, weekday=2, start_time=time(10), end_time=time(12))
    crafts = PlaceFactory(name="手芸サロン", area="北", activities=["手芸"], accommodations=["quiet_room"])
    PlaceScheduleFactory(place=crafts, weekday=4, start_time=time(13), end_time=time(15))
    kids = PlaceFactory(
        name="子ども教室", area="中央", activities=["料理"], min_age=6, max_age=12, target_groups=["children"]
    )
    PlaceScheduleFactory(place=kids, weekday=2, start_time=time(17), end_time=time(19))
    PlaceFactory(name="受け入れなし", activities=["料理"], accepts_referrals=False)
    PlaceFactory(name="休止中", activities=["料理"], is_active=False)
    return cooking, crafts, kids


def test_places_are_ranked_with_japanese_reasons(places):
    cooking, crafts, _kids = places
    wishes = PlaceWishes(
        interests=["料理"],
        area="中央",
        weekdays=[2],
        time_from=time(9),
        time_to=time(12),
        accommodations=["written_conversation"],
        age=40,
    )
    results = place_match(wishes=wishes)
    assert [m.place for m in results] == [cooking, crafts]  # the children's class is out of the age range
    top = results[0]
    assert top.reasons == [
        "希望の活動: 料理",
        "地区: 中央",
        "水曜に開催",
        "希望の時間帯に開催（毎週水曜 10:00〜12:00）",
        "筆談対応",
        "対象: どなたでも",
    ]
    assert top.score == 3 + 2 + 2 + 1 + 2 + 1
    assert "筆談対応の記載なし" in results[1].misses


def test_only_active_places_accepting_referrals_are_candidates(places):
    names = {m.place.name for m in place_match(wishes=PlaceWishes(interests=["料理"]))}
    assert "受け入れなし" not in names and "休止中" not in names


def test_equal_scores_come_out_in_a_stable_order(places):
    first = [m.place.pk for m in place_match(wishes=PlaceWishes())]
    second = [m.place.pk for m in place_match(wishes=PlaceWishes())]
    assert (
        first
        == second
        == sorted(
            first, key=lambda pk: [m.place.name for m in place_match(wishes=PlaceWishes()) if m.place.pk == pk][0]
        )
    )


def test_a_missing_accommodation_lowers_the_rank(places):
    cooking, crafts, _ = places
    results = place_match(wishes=PlaceWishes(accommodations=["quiet_room"], age=30))
    assert results[0].place == crafts


def test_the_matching_screen_for_caseworkers(personas, login, places):
    response = login(personas.caseworker_a).get(
        reverse("places:match"), {"interests": "料理", "weekdays": ["2"], "accommodations": ["written_conversation"]}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "料理の会" in html and "希望の活動: 料理" in html and "筆談対応" in html


def test_the_matching_screen_explains_bad_input(personas, login, places):
    response = login(personas.caseworker_a).get(reverse("places:match"), {"age": "-1", "interests": "a\x00b"})
    assert response.status_code == 200
    assert "field-error" in response.content.decode()


@pytest.mark.parametrize("persona", ["place_staff", "auditor"])
def test_the_matching_screen_is_not_for_place_staff_or_auditors(personas, login, persona):
    assert login(getattr(personas, persona)).get(reverse("places:match")).status_code == 404
