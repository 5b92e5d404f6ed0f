"""Attendance: recorded per participant and date by the operator's staff only."""

from datetime import UTC, date, datetime

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


def _accepted_ref(personas, place, name="さくらさん") -> str:
    """Return the participant ref of an accepted 参加支援 referral to the place (referrals answers for it)."""
    from referrals import services as rs
    from tests.factories import make_case, make_referral

    case = make_case(lead_organization=personas.window_a, by=personas.caseworker_a)
    referral = make_referral(
        kind="participation",
        case=case,
        by=personas.caseworker_a,
        sender=personas.window_a,
        place=place,
        card_preferred_name=name,
    )
    # Sent in spring 2025, so the June 2025 days below come after it (nothing is recorded before a referral).
    type(referral).objects.filter(pk=referral.pk).update(sent_at=datetime(2025, 5, 1, 10, tzinfo=UTC))
    return rs.referral_move(move="accept", referral=referral, by=personas.place_staff).participant_ref


def test_recording_twice_for_the_same_day_corrects_the_record_only_when_asked(personas, place):
    ref = _accepted_ref(personas, place)
    kwargs = dict(place=place, participant_ref=ref, participant_label="さくらさん", on=date(2025, 6, 1))
    attendance_record(**kwargs, status="attended", hours=2, note="楽しそうでした", by=personas.place_staff)
    with pytest.raises(ValidationError, match="この日の記録を書き換える"):
        attendance_record(**kwargs, status="absent", hours=None, note="", by=personas.place_staff)
    assert list(attendance_for(ref).values_list("status", flat=True)) == ["attended"]
    attendance_record(**kwargs, status="absent", hours=None, note="", by=personas.place_staff, replace=True)
    assert Attendance.objects.count() == 1
    assert list(attendance_for(ref).values_list("status", flat=True)) == ["absent"]


def test_hours_only_for_attended_days(personas, place):
    with pytest.raises(ValidationError):
        attendance_record(
            place=place,
            participant_ref=_accepted_ref(personas, place),
            participant_label="A",
            on=date(2025, 6, 1),
            status="cancelled",
            hours=1,
            note="",
            by=personas.place_staff,
        )


def test_attendance_for_lists_a_participants_history_newest_first(personas, place):
    ref = _accepted_ref(personas, place)
    for day in (1, 8, 15):
        attendance_record(
            place=place,
            participant_ref=ref,
            participant_label="B",
            on=date(2025, 6, day),
            status="attended",
            hours=1.5,
            note="",
            by=personas.place_staff,
        )
    assert [a.on.day for a in attendance_for(ref)] == [15, 8, 1]


def test_operator_staff_record_attendance_on_the_screen(personas, login, place):
    ref = _accepted_ref(personas, place, name="はなこさん")
    attendance_record(
        place=place,
        participant_ref=ref,
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
            "participant_ref": ref,
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


def test_a_service_call_for_a_referral_the_place_does_not_have_is_refused(personas, place):
    with pytest.raises(ValidationError):
        attendance_record(
            place=place,
            participant_ref="referral:999",
            participant_label="X",
            on=date(2025, 6, 1),
            status="attended",
            hours=None,
            note="",
            by=personas.place_staff,
        )
    assert Attendance.objects.count() == 0


def test_an_accepted_referral_is_offered_before_its_first_attendance(personas, login, place):
    ref = _accepted_ref(personas, place, name="はなこさん")
    page = login(personas.place_staff).get(reverse("places:attendance", args=[place.pk])).content.decode()
    assert f'value="{ref}"' in page and "はなこさん" in page


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
