"""Attendance never silently replaces a day's entry; nothing is dated before the referral was sent (issue 16, item 7)."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from places.models import Attendance
from referrals import services
from referrals.models import Referral
from tests.factories import make_referral
from tests.refusals import refused_page


@pytest.fixture
def accepted(personas, case_a, place):
    referral = make_referral(
        kind="participation", case=case_a, by=personas.caseworker_a, sender=personas.window_a, place=place
    )
    referral = services.referral_move(move="accept", referral=referral, by=personas.place_staff)
    # Sent five days ago.
    Referral.objects.filter(pk=referral.pk).update(sent_at=timezone.now() - datetime.timedelta(days=5))
    referral.refresh_from_db()
    return referral


def _record(referral, by, on, **kwargs):
    return services.referral_attendance_record(referral=referral, on=on, status="attended", by=by, **kwargs)


def test_a_second_entry_for_the_same_day_asks_before_replacing(personas, accepted):
    today = timezone.localdate()
    _record(accepted, personas.place_staff, today, note="楽しそうでした")
    with pytest.raises(ValidationError) as refused:
        _record(accepted, personas.place_staff, today, note="別の記録")
    assert "この日の記録を書き換える" in str(refused.value)
    assert Attendance.objects.get().note == "楽しそうでした"
    _record(accepted, personas.place_staff, today, note="別の記録", replace=True)
    assert Attendance.objects.get().note == "別の記録"


def test_the_screen_shows_the_question_and_keeps_the_earlier_note(personas, accepted, login):
    client = login(personas.place_staff)
    url = reverse("referrals:attendance", args=[accepted.pk])
    today = timezone.localdate().isoformat()
    assert client.post(url, {"on": today, "status": "attended", "note": "最初"}).status_code == 302
    response = client.post(url, {"on": today, "status": "absent", "note": "上書き"})
    html = refused_page(client, response, reverse("referrals:detail", args=[accepted.pk]))
    assert html.count("すでに記録されています") == 1 and "この日の記録を書き換える" in html
    assert 'value="上書き"' in html
    assert Attendance.objects.get().note == "最初"
    assert client.post(url, {"on": today, "status": "absent", "note": "上書き", "replace": "on"}).status_code == 302
    assert Attendance.objects.get().note == "上書き"


def test_attendance_before_the_referral_was_sent_is_refused(personas, accepted):
    before = timezone.localdate() - datetime.timedelta(days=6)
    with pytest.raises(ValidationError, match="より前"):
        _record(accepted, personas.place_staff, before)
    assert not Attendance.objects.exists()


def test_a_stage_before_the_referral_was_sent_is_refused(personas, accepted):
    before = timezone.localdate() - datetime.timedelta(days=6)
    with pytest.raises(ValidationError, match="より前"):
        services.participation_stage_record(referral=accepted, stage="visit", on=before, by=personas.caseworker_a)
    services.participation_stage_record(
        referral=accepted, stage="visit", on=timezone.localdate() - datetime.timedelta(days=5), by=personas.caseworker_a
    )


def test_the_places_screen_refuses_a_date_before_the_referral(personas, accepted, login):
    client = login(personas.place_staff)
    before = (timezone.localdate() - datetime.timedelta(days=6)).isoformat()
    response = client.post(
        reverse("places:attendance", args=[accepted.place_id]),
        {"participant_ref": accepted.participant_ref, "on": before, "status": "attended"},
    )
    assert response.status_code == 200 and "より前" in response.content.decode()
    assert not Attendance.objects.exists()
