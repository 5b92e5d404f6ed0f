"""casework's daily jobs (registered in casework.scheduling): reviews, consents and the access log's chain."""

from __future__ import annotations

from datetime import date, timedelta

from django.urls import reverse
from django.utils.translation import gettext as _

from casework.choices import Role
from casework.models import Consent, Membership, NotificationKind, SupportPlan
from casework.notifications.services import notify
from core.japanese import format_wareki

REVIEW_NOTICE_DAYS = 7
CONSENT_NOTICE_DAYS = 30


def reviews_due(day: date) -> str:
    """Tell the lead worker and organization of each plan whose review is within 7 days, and when it passed."""
    plans = SupportPlan.objects.filter(
        status=SupportPlan.Status.APPROVED,
        next_review_on__isnull=False,
        next_review_on__lte=day + timedelta(days=REVIEW_NOTICE_DAYS),
        case__closed_on__isnull=True,
    ).select_related("case__lead_organization", "case__lead_worker")
    written = 0
    for plan in plans.iterator(chunk_size=500):
        case = plan.case
        overdue = plan.next_review_on < day
        summary = (
            _("ケース %(n)s の支援プランの見直し日（%(d)s）を過ぎています。")
            if overdue
            else _("ケース %(n)s の支援プランの見直し日（%(d)s）が近づいています。")
        ) % {"n": case.number, "d": format_wareki(plan.next_review_on)}
        written += len(
            notify(
                kind=NotificationKind.REVIEW_DUE,
                summary=summary,
                organizations=[case.lead_organization],
                users=[case.lead_worker],
                case=case,
                url=case.get_absolute_url(),
                dedupe_key=f"review:{plan.pk}:{plan.next_review_on}:{'overdue' if overdue else 'soon'}",
            )
        )
    return f"見直し {plans.count()} 件、お知らせ {written} 件"


def consents_expiring(day: date) -> str:
    """Tell the lead worker and organization of each consent that ends within 30 days."""
    consents = Consent.objects.filter(
        status=Consent.Status.GIVEN,
        case__isnull=False,
        valid_until__gte=day,
        valid_until__lte=day + timedelta(days=CONSENT_NOTICE_DAYS),
    ).select_related("case__lead_organization", "case__lead_worker")
    written = 0
    for consent in consents.iterator(chunk_size=500):
        case = consent.case
        written += len(
            notify(
                kind=NotificationKind.CONSENT_EXPIRING,
                summary=_("ケース %(n)s の同意 #%(id)s は%(d)sで有効期限を迎えます。")
                % {"n": case.number, "id": consent.pk, "d": format_wareki(consent.valid_until)},
                organizations=[case.lead_organization],
                users=[case.lead_worker],
                case=case,
                url=case.get_absolute_url(),
                dedupe_key=f"consent:{consent.pk}:{consent.valid_until}",
            )
        )
    return f"期限の近い同意 {consents.count()} 件、お知らせ {written} 件"


def access_log_verified(day: date) -> str:
    """Verify yesterday's and today's access-log chains; alert every auditor when one does not verify.

    Anchoring stays with its own timer (deploy/jusou-anchor-access-log.*), as an OS user the application
    and its workers cannot write as.
    """
    from django.contrib.auth import get_user_model

    from casework.audit import verify_day

    problems = []
    for chain_day in (day - timedelta(days=1), day):
        _checked, problem = verify_day(chain_day)
        if problem is not None:
            problems.append(problem)
    if not problems:
        return "アクセス記録の連鎖: 正常"
    auditor_ids = Membership.objects.filter(role=Role.AUDITOR, is_active=True).values("user_id")
    auditors = list(get_user_model().objects.filter(pk__in=auditor_ids, is_active=True))
    for problem in problems:
        notify(
            kind=NotificationKind.ACCESS_LOG_ALERT,
            summary=_("アクセス記録の連鎖が検証できません: %(d)s 連番 %(seq)s（%(m)s）")
            % {"d": problem.day.isoformat(), "seq": problem.seq, "m": problem.message},
            users=auditors,
            url=reverse("audit:chain"),
            dedupe_key=f"chain:{problem.day}:{problem.seq}",
        )
    return f"アクセス記録の連鎖: 異常 {len(problems)} 日分（監査担当に通知）"
