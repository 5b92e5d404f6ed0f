"""An action item assigned in a meeting notifies the assigned organization and the assignee, once each."""

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from casework.models import Notification, NotificationKind
from casework.notifications import selectors
from casework.viewers import Viewer
from meetings import services as ms

pytestmark = pytest.mark.django_db


def test_an_assigned_action_item_notifies_the_organization_and_its_assignee(personas, layered):
    ms.meeting_participant_add(meeting=layered, user=personas.caseworker_b, by=personas.chair)
    Notification.objects.all().delete()
    ms.meeting_decide(
        item=layered.items.get(),
        kind="action",
        text="就労準備支援につなぐ",
        actions=[
            {
                "organization": personas.window_b,
                "assignee": personas.caseworker_b,
                "text": "就労準備支援につなぐ",
                "due_on": timezone.localdate() + timedelta(days=14),
            }
        ],
        by=personas.chair,
    )
    rows = Notification.objects.filter(kind=NotificationKind.ACTION_ASSIGNED)
    assert Counter(rows.values_list("user__username", flat=True)) == Counter({"cw_b": 1})
    (row,) = selectors.notifications_for(Viewer(personas.caseworker_b))
    assert row.visible and "期限" in row.notification.summary
