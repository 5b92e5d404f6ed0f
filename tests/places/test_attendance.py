"""Attendance: recorded per participant and date by the operator's staff only."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from casework.models import AccessLog
from places.models import Attendance
from places.selectors import attendance_for
from places.services import attendance_record
from tests.factories import PlaceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def place(personas):
    return PlaceFactory(operator=personas.place_operator, name="みんなの食堂")


def test_recording_twice_for_the_same_day_corrects_the_record(personas, place):
    kwargs = dict(place=place, participant_ref="referral:12", participant_label="さくらさん", on=date(2025, 6, 1))
    attendance_record(**kwargs, status="attended", hours=2, note="楽しそうでした", by=personas.place_staff)
    attendance_record(**kwargs, status="absent", hours=None, note="", by=personas.place_staff)
    assert Attendance.objects.count() == 1
    assert list(attendance_for("referral:12").values_list("status", flat=True)) == ["absent"]


def test_hours_only_for_attended_days(personas, place):
    with pytest.raises(ValidationError):
        attendance_record(
            place=place,
            participant_ref="referral:1",
            participant_label="A",
            on=date(2025, 6, 1),
            status="cancelled",
            hours=1,
            note="",
            by=personas.place_staff,
        )


def test_attendance_for_lists_a_participants_history_newest_first(personas, place):
    for day in (1, 8, 15):
        attendance_record(
            place=place,
            participant_ref="referral:3",
            participant_label="B",
            on=date(2025, 6, day),
            status="attended",
            hours=1.5,
            note="",
            by=personas.place_staff,
        )
    assert [a.on.day for a in attendance_for("referral:3")] == [15, 8, 1]


def test_operator_staff_record_attendance_on_the_screen(personas, login, place, case_a):
    from referrals.services import referral_accept
    from tests.factories import make_referral

    referral = make_referral(
        kind="participation", case=case_a, by=personas.caseworker_a, sender=personas.window_a, place=place
    )
    referral_accept(referral=referral, by=personas.place_staff)
    attendance_record(
        place=place,
        participant_ref=referral.participant_ref,
        participant_label="はなこさん",
        on=date(2025, 6, 1),
        status="attended",
        hours=2,
        note="",
        by=personas.place_staff,
    )
    client = login(personas.place_staff)
    url = reverse("places:attendance", args=[place.pk])
    assert "はなこさん" in client.get(url).content.decode()
    response = client.post(
        url,
        {
            "participant_ref": referral.participant_ref,
            "on": "令和7年6月8日",
            "status": "attended",
            "hours": "1.5",
            "note": "料理を担当",
        },
    )
    assert response.status_code == 302
    record = Attendance.objects.get(on=date(2025, 6, 8))
    assert record.note == "料理を担当" and record.participant_label == "はなこさん"
    assert AccessLog.objects.filter(object_type="places.attendance", object_id=str(place.pk)).count() >= 2
    # The participant is logged on the consent the referral rests on.
    assert AccessLog.objects.filter(
        object_type="places.attendance", basis="consent", basis_ref=str(referral.consent_id)
    ).exists()


def test_a_participant_whose_card_is_not_the_places_is_not_listed(personas, login, place):
    # An attendance row whose referral this place cannot see (no such card): neither listed nor recordable.
    attendance_record(
        place=place,
        participant_ref="referral:7",
        participant_label="はなこさん",
        on=date(2025, 6, 1),
        status="attended",
        hours=2,
        note="",
        by=personas.place_staff,
    )
    client = login(personas.place_staff)
    url = reverse("places:attendance", args=[place.pk])
    assert "はなこさん" not in client.get(url).content.decode()
    response = client.post(url, {"participant_ref": "referral:7", "on": "2025-06-08", "status": "attended"})
    assert response.status_code == 200
    assert Attendance.objects.count() == 1


def test_the_screen_refuses_an_unknown_participant_and_a_nul(personas, login, place):
    client = login(personas.place_staff)
    url = reverse("places:attendance", args=[place.pk])
    response = client.post(
        url, {"participant_ref": "referral:999", "on": "2025-06-01", "status": "attended", "note": "a\x00"}
    )
    assert response.status_code == 200
    assert Attendance.objects.count() == 0


@pytest.mark.parametrize("persona", ["administrator", "caseworker_a", "auditor", "coordinator"])
def test_only_the_operators_staff_see_attendance(personas, login, place, persona):
    assert login(getattr(personas, persona)).get(reverse("places:attendance", args=[place.pk])).status_code == 404


def test_staff_of_another_operator_get_404(personas, login):
    other = PlaceFactory(name="よその居場所")
    assert login(personas.place_staff).get(reverse("places:attendance", args=[other.pk])).status_code == 404
