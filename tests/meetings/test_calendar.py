"""The calendar shows the participant the 重層的支援会議 and the action deadline of their organization."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings import services as ms

pytestmark = pytest.mark.django_db


def test_a_participant_sees_the_meeting_on_the_calendar(personas, login, layered):
    day = timezone.localtime(layered.starts_at).date()
    page = login(personas.caseworker_a).get(reverse("casework:calendar"), {"view": "week", "date": day.isoformat()})
    assert f"会議 #{layered.pk}" in page.content.decode()
    other = login(personas.caseworker_b).get(reverse("casework:calendar"), {"view": "week", "date": day.isoformat()})
    assert f"会議 #{layered.pk}" not in other.content.decode()


def test_an_action_deadline_is_the_assigned_organizations_todo(personas, login, layered):
    ms.meeting_participant_add(meeting=layered, user=personas.caseworker_b, by=personas.chair)
    due = timezone.localdate() + timedelta(days=10)
    ms.meeting_decide(
        item=layered.items.get(),
        kind="action",
        text="就労準備支援につなぐ",
        actions=[{"organization": personas.window_b, "text": "就労準備支援につなぐ", "due_on": due}],
        by=personas.chair,
    )
    page = login(personas.caseworker_b).get(reverse("casework:todo") + "?scope=organization").content.decode()
    assert "対応事項の期限" in page and f"会議 #{layered.pk}" in page
