"""casework's own dated items: plan review dates and consents coming to the end of their validity."""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext as _

from casework import disclosure
from casework.calendar import DatedItem
from casework.models import Consent, SupportPlan
from core.japanese import format_wareki


def casework_items(viewer, start: date, end: date, mine: bool) -> list[DatedItem]:
    if not viewer.works_cases:
        return []
    cases = disclosure.cases_for_user(viewer)
    if mine:
        cases = cases.filter(lead_worker=viewer.user)
    plans = (
        SupportPlan.objects.filter(
            case__in=cases, status=SupportPlan.Status.APPROVED, next_review_on__range=(start, end)
        )
        .select_related("case")
        .order_by("next_review_on")
    )
    lead_cases = cases.filter(lead_organization_id__in=viewer.organization_ids(*disclosure.CASE_ROLES))
    consents = (
        Consent.objects.filter(case__in=lead_cases, status=Consent.Status.GIVEN, valid_until__range=(start, end))
        .select_related("case")
        .order_by("valid_until")
    )
    review = _("見直し日")
    expiry = _("同意の有効期限")
    todos = [
        (
            p.case,
            p.next_review_on,
            review,
            _("ケース %(n)s 支援プラン第%(v)s版の見直し") % {"n": p.case.number, "v": p.version},
        )
        for p in plans
    ] + [
        (c.case, c.valid_until, expiry, _("ケース %(n)s 同意 #%(id)s の有効期限") % {"n": c.case.number, "id": c.pk})
        for c in consents
    ]
    # Each opens its case, and is the viewer's own when they are the case's lead worker.
    return [
        DatedItem(
            on=on,
            kind=kind,
            title=title,
            feed_title=title,
            case_id=case.pk,
            url=case.get_absolute_url(),
            todo=True,
            mine=case.lead_worker_id == viewer.user.pk,
        )
        for case, on, kind, title in todos
    ]


def approval_items(viewer, start: date, end: date, mine: bool) -> list[DatedItem]:
    """決裁待ち: the requests a supervisor of the lead organization (in that hat) has to decide, on today.

    A pending request is due now, so it stands on today until decided; the supervisor's own requests are
    left out (another supervisor decides them). In both scopes: the supervisor is the one who decides.
    """
    from django.utils import timezone

    from casework.choices import Role
    from casework.models import ApprovalRequest, ApprovalState

    today = timezone.localdate()
    organization_ids = viewer.organization_ids(Role.SUPERVISOR)
    if not organization_ids or not (start <= today <= end):
        return []
    pending = (
        ApprovalRequest.objects.filter(
            case__lead_organization_id__in=organization_ids,
            state=ApprovalState.PENDING,
        )
        .exclude(requested_by=viewer.user)
        .select_related("case")
        .order_by("requested_at", "id")
    )
    return [
        DatedItem(
            on=today,
            kind=_("決裁"),
            title=_("ケース %(n)s %(kind)sの決裁（%(d)s申請）")
            % {
                "n": row.case.number,
                "kind": row.get_kind_display(),
                "d": format_wareki(timezone.localdate(row.requested_at)),
            },
            url=row.get_absolute_url(),
            todo=True,
            mine=True,
        )
        for row in pending
    ]
