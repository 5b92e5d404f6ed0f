"""meetings' daily job (registered in casework.scheduling): action items due within 3 days, or overdue."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils.translation import gettext as _

from casework.models import NotificationKind
from casework.notifications.services import notify
from core.japanese import format_wareki
from meetings.models import ActionItem

ACTION_NOTICE_DAYS = 3


def actions_due(day: date) -> str:
    rows = ActionItem.objects.filter(
        done=False, due_on__isnull=False, due_on__lte=day + timedelta(days=ACTION_NOTICE_DAYS)
    ).select_related("organization", "assignee", "item__case", "item__meeting")
    written = 0
    for action in rows.iterator(chunk_size=500):
        overdue = action.due_on < day
        words = {"m": action.item.meeting_id, "d": format_wareki(action.due_on)}
        summary = (
            _("会議 #%(m)s の対応事項の期限（%(d)s）を過ぎています。")
            if overdue
            else _("会議 #%(m)s の対応事項の期限（%(d)s）が近づいています。")
        ) % words
        written += len(
            notify(
                kind=NotificationKind.ACTION_DUE,
                summary=summary,
                organizations=[action.organization],
                users=[action.assignee],
                case=action.item.case,
                target_type="action_item",
                target_id=action.pk,
                url=action.item.meeting.get_absolute_url(),
                dedupe_key=f"action:{action.pk}:{action.due_on}:{'overdue' if overdue else 'soon'}",
            )
        )
    return f"期限の近い・過ぎた対応事項 {rows.count()} 件、お知らせ {written} 件"
