"""casework's own dated items: plan review dates and consents coming to the end of their validity."""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext as _

from casework import disclosure
from casework.calendar import DatedItem
from casework.models import Consent, SupportPlan


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
            url=case.get_absolute_url(),
            todo=True,
            mine=case.lead_worker_id == viewer.user.pk,
        )
        for case, on, kind, title in todos
    ]
