"""referrals' daily job (registered in casework.scheduling): referral responses past their due date."""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext as _

from casework.models import NotificationKind
from casework.notifications.services import notify
from core.japanese import format_wareki
from referrals.models import Referral, ReferralState


def responses_overdue(day: date) -> str:
    """Tell the receiver (to answer) and the sending worker (to follow up) once per referral and due date."""
    rows = Referral.objects.filter(state=ReferralState.REQUESTED, due_on__lt=day).select_related(
        "sender_organization", "receiver_organization", "sender_user", "case"
    )
    written = 0
    for referral in rows.iterator(chunk_size=500):
        key = f"referral_overdue:{referral.pk}:{referral.due_on}"
        words = {"kind": referral.get_kind_display(), "id": referral.pk, "d": format_wareki(referral.due_on)}
        written += len(
            notify(
                kind=NotificationKind.REFERRAL_OVERDUE,
                summary=_("%(kind)s #%(id)s の回答期限（%(d)s）を過ぎています。回答してください。") % words,
                organizations=[referral.receiver_organization],
                target_type="referral",
                target_id=referral.pk,
                url=referral.get_absolute_url(),
                dedupe_key=key,
            )
        )
        written += len(
            notify(
                kind=NotificationKind.REFERRAL_OVERDUE,
                summary=_("%(kind)s #%(id)s は回答期限（%(d)s）を過ぎても回答がありません。") % words,
                users=[referral.sender_user],
                case=referral.case,
                target_type="referral",
                target_id=referral.pk,
                url=referral.get_absolute_url(),
                dedupe_key=key,
            )
        )
    return f"回答期限超過の紹介 {rows.count()} 件、お知らせ {written} 件"
