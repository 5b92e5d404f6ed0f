"""A meeting scheduled for a later day is started, decided or locked only after the chair confirms (issue 16, item 6)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings.models import Decision, Meeting, MeetingStatus

pytestmark = pytest.mark.django_db


def test_starting_a_meeting_of_a_later_day_asks_first(personas, layered, login):
    client = login(personas.chair)
    url = reverse("meetings:status", args=[layered.pk])
    response = client.post(url, {"action": "start"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "予定日前" in html and 'name="confirm_early"' in html and "令和" in html
    assert Meeting.objects.get(pk=layered.pk).status == MeetingStatus.SCHEDULED
    assert client.post(url, {"action": "start", "confirm_early": "1"}).status_code == 302
    assert Meeting.objects.get(pk=layered.pk).status == MeetingStatus.IN_SESSION


def test_a_meeting_of_today_starts_without_a_question(personas, layered, login):
    Meeting.objects.filter(pk=layered.pk).update(starts_at=timezone.now())
    response = login(personas.chair).post(reverse("meetings:status", args=[layered.pk]), {"action": "start"})
    assert response.status_code == 302
    assert Meeting.objects.get(pk=layered.pk).status == MeetingStatus.IN_SESSION


def test_deciding_in_a_not_started_meeting_of_a_later_day_asks_first(personas, layered, login):
    client = login(personas.chair)
    item = layered.items.get()
    url = reverse("meetings:decide", args=[layered.pk, item.pk])
    data = {"kind": "next_review", "next_review_on": "令和9年3月1日", "text": "3か月後に見直す"}
    response = client.post(url, data)
    assert response.status_code == 200 and "予定日前" in response.content.decode()
    assert "3か月後に見直す" in response.content.decode()  # carried over in the confirmation form
    assert not Decision.objects.exists()
    client.post(url, data | {"confirm_early": "1"})
    assert Decision.objects.get().kind == "next_review"


def test_a_note_like_decision_needs_no_confirmation(personas, layered, login):
    item = layered.items.get()
    url = reverse("meetings:decide", args=[layered.pk, item.pk])
    assert login(personas.chair).post(url, {"kind": "other", "text": "情報共有のみ"}).status_code == 302
    assert Decision.objects.get().kind == "other"


def test_locking_minutes_of_a_later_day_asks_first(personas, layered, login):
    client = login(personas.chair)
    url = reverse("meetings:status", args=[layered.pk])
    client.post(url, {"action": "conclude", "confirm_early": "1"})
    assert Meeting.objects.get(pk=layered.pk).status == MeetingStatus.CONCLUDED
    response = client.post(url, {"action": "lock"})
    assert response.status_code == 200 and "議事録の確定" in response.content.decode()
    assert Meeting.objects.get(pk=layered.pk).status == MeetingStatus.CONCLUDED
    Meeting.objects.filter(pk=layered.pk).update(starts_at=timezone.now() - timedelta(hours=2))
    assert client.post(url, {"action": "lock"}).status_code == 302
    assert Meeting.objects.get(pk=layered.pk).status == MeetingStatus.MINUTES_LOCKED


def test_closing_a_case_lists_its_open_action_items_and_can_end_them(personas, layered, case_a):
    """Issue 16, item 8: an open action item appears on the closing form and ends when the lead says so."""
    from casework.services.cases import case_open_things
    from meetings import services as ms

    ms.meeting_decide(
        item=layered.items.get(),
        kind="action",
        text="家計相談につなぐ",
        actions=[{"organization": personas.window_a, "text": "家計相談につなぐ", "due_on": None, "assignee_name": ""}],
        by=personas.chair,
    )
    things = {t.key: t for t in case_open_things(case_a, personas.caseworker_a)}
    action_key = next(k for k in things if k.startswith("action:"))
    assert "家計相談につなぐ" in things[action_key].text
    assert "done" in dict(things[action_key].choices)
    things[action_key].apply("done", "目標達成", personas.caseworker_a)
    assert ms.ActionItem.objects.get().done
