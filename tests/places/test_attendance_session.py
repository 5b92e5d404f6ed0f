"""A place records a session's attendance for all its participants on one screen (issue 16, the place's part)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from places.models import Attendance
from referrals import services as rs
from tests.factories import PlaceFactory, make_case, make_referral

pytestmark = pytest.mark.django_db


@pytest.fixture
def place(personas):
    return PlaceFactory(operator=personas.place_operator, name="みんなの食堂")


def _participant(personas, place, name):
    case = make_case(lead_organization=personas.window_a, by=personas.caseworker_a)
    referral = make_referral(
        kind="participation",
        case=case,
        by=personas.caseworker_a,
        sender=personas.window_a,
        place=place,
        card_preferred_name=name,
    )
    return rs.referral_move(move="accept", referral=referral, by=personas.place_staff)


def test_one_screen_records_everyone_who_came_and_who_did_not(personas, place, login):
    first, second = _participant(personas, place, "さくらさん"), _participant(personas, place, "たけしさん")
    client = login(personas.place_staff)
    url = reverse("places:attendance_session", args=[place.pk])
    page = client.get(url).content.decode()
    assert "さくらさん" in page and "たけしさん" in page
    today = timezone.localdate().isoformat()
    response = client.post(
        url,
        {"on": today, "status_0": "attended", "hours_0": "2", "note_0": "楽しそう", "status_1": "absent"},
        follow=True,
    )
    assert "2人分記録しました" in response.content.decode()
    rows = {a.participant_ref: a.status for a in Attendance.objects.all()}
    assert rows == {first.participant_ref: "attended", second.participant_ref: "absent"}


def test_changing_a_kept_record_of_the_day_asks_first(personas, place, login):
    _participant(personas, place, "さくらさん")
    client = login(personas.place_staff)
    url = reverse("places:attendance_session", args=[place.pk])
    today = timezone.localdate().isoformat()
    client.post(url, {"on": today, "status_0": "attended", "note_0": "最初"})
    response = client.post(url, {"on": today, "status_0": "absent", "note_0": "上書き"})
    assert response.status_code == 200 and "この日の記録を書き換える" in response.content.decode()
    assert Attendance.objects.get().note == "最初"
    client.post(url, {"on": today, "status_0": "absent", "note_0": "上書き", "replace": "on"})
    assert Attendance.objects.get().note == "上書き"


def test_nothing_chosen_is_a_message_not_a_save(personas, place, login):
    _participant(personas, place, "さくらさん")
    response = login(personas.place_staff).post(
        reverse("places:attendance_session", args=[place.pk]), {"on": timezone.localdate().isoformat()}
    )
    assert response.status_code == 200 and "一人以上" in response.content.decode()
    assert not Attendance.objects.exists()


def test_other_operators_get_404(personas, place, login):
    assert login(personas.caseworker_a).get(reverse("places:attendance_session", args=[place.pk])).status_code == 404
