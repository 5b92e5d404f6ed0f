"""Meeting invitations and changes reach the participants as notifications, in the service's transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from casework.models import Notification, NotificationKind
from meetings import services as ms
from meetings.models import MeetingStatus
from tests.factories import make_meeting

pytestmark = pytest.mark.django_db


def _notes(kind):
    return Notification.objects.filter(kind=kind)


def test_adding_a_participant_tells_them_once_and_nobody_else(personas):
    meeting = make_meeting(chair=personas.chair, title="山田太郎さんの件")
    ms.meeting_participant_add(meeting=meeting, user=personas.caseworker_a, by=personas.chair)
    ms.meeting_participant_add(meeting=meeting, user=personas.caseworker_a, by=personas.chair)  # already in
    rows = list(_notes(NotificationKind.MEETING_INVITED))
    assert [row.user for row in rows] == [personas.caseworker_a]
    assert f"会議 #{meeting.pk}" in rows[0].summary and "重層的支援会議" in rows[0].summary
    assert "山田" not in rows[0].summary, "the meeting's title (free text) is not in the notice"
    assert rows[0].url == meeting.get_absolute_url()


def test_a_new_meetings_secretary_is_told_but_not_the_chair_who_made_it(personas):
    make_meeting(chair=personas.chair, secretary=personas.coordinator)
    assert [n.user for n in _notes(NotificationKind.MEETING_INVITED)] == [personas.coordinator]


def test_rescheduling_tells_every_participant_but_the_one_who_moved_it(personas):
    meeting = make_meeting(chair=personas.chair, secretary=personas.coordinator, participants=[personas.caseworker_a])
    new_time = timezone.now() + timedelta(days=10)
    ms.meeting_reschedule(meeting=meeting, starts_at=new_time, place="別館2階", by=personas.coordinator)
    users = {n.user for n in _notes(NotificationKind.MEETING_RESCHEDULED)}
    assert users == {personas.chair, personas.caseworker_a}
    meeting.refresh_from_db()
    assert meeting.place == "別館2階"


def test_a_reschedule_that_changes_nothing_tells_nobody(personas):
    meeting = make_meeting(chair=personas.chair, participants=[personas.caseworker_a])
    ms.meeting_reschedule(meeting=meeting, starts_at=meeting.starts_at, place=meeting.place, by=personas.chair)
    assert not _notes(NotificationKind.MEETING_RESCHEDULED).exists()


def test_cancelling_tells_the_participants_without_the_reason_and_takes_it_off_the_calendar(personas, login):
    meeting = make_meeting(chair=personas.chair, participants=[personas.caseworker_a])
    day = timezone.localtime(meeting.starts_at).date()
    calendar = reverse("casework:calendar") + f"?view=list&date={day.isoformat()}"
    assert f"会議 #{meeting.pk}" in login(personas.caseworker_a).get(calendar).content.decode()
    ms.meeting_cancel(meeting=meeting, reason="佐藤さんの入院のため", by=personas.chair)
    rows = list(_notes(NotificationKind.MEETING_CANCELLED))
    assert [row.user for row in rows] == [personas.caseworker_a]
    assert "佐藤" not in rows[0].summary and "中止" in rows[0].summary
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.CANCELLED
    assert f"会議 #{meeting.pk}" not in login(personas.caseworker_a).get(calendar).content.decode()
    with pytest.raises(ms.ValidationError):
        ms.meeting_participant_add(meeting=meeting, user=personas.coordinator, by=personas.chair)


def test_a_notice_written_in_a_transaction_that_rolls_back_does_not_exist(personas):
    meeting = make_meeting(chair=personas.chair)
    with pytest.raises(RuntimeError), transaction.atomic():
        ms.meeting_participant_add(meeting=meeting, user=personas.caseworker_a, by=personas.chair)
        raise RuntimeError
    assert not _notes(NotificationKind.MEETING_INVITED).exists()


def test_the_invited_user_sees_the_notice_with_its_link(personas, login):
    meeting = make_meeting(chair=personas.chair)
    ms.meeting_participant_add(meeting=meeting, user=personas.caseworker_a, by=personas.chair)
    page = login(personas.caseworker_a).get(reverse("casework:notifications")).content.decode()
    assert f"会議 #{meeting.pk}" in page


def test_the_schedule_screen_for_chair_secretary_participant_and_outsider(personas, login):
    meeting = make_meeting(chair=personas.chair, secretary=personas.coordinator, participants=[personas.caseworker_a])
    url = reverse("meetings:schedule", args=[meeting.pk])
    assert login(personas.chair).get(url).status_code == 200
    assert login(personas.coordinator).get(url).status_code == 200
    assert login(personas.caseworker_a).get(url).status_code == 403
    assert login(personas.caseworker_b).get(url).status_code == 404
    # The secretary may move it but not cancel it.
    response = login(personas.coordinator).post(url, {"action": "cancel", "reason": "x"})
    assert response.status_code == 403
    starts = (timezone.localtime() + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    response = login(personas.coordinator).post(url, {"action": "reschedule", "starts_at": starts, "place": "別館"})
    assert response.status_code == 302
    response = login(personas.chair).post(url, {"action": "cancel", "reason": ""})
    assert response.status_code == 200 and "field-error" in response.content.decode()
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.SCHEDULED
    response = login(personas.chair).post(url, {"action": "cancel", "reason": "台風のため"})
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.CANCELLED
