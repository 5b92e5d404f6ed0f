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
    items = []
    plans = (
        SupportPlan.objects.filter(
            case__in=cases, status=SupportPlan.Status.APPROVED, next_review_on__range=(start, end)
        )
        .select_related("case")
        .order_by("next_review_on")
    )
    for plan in plans:
        items.append(
            DatedItem(
                on=plan.next_review_on,
                kind=_("見直し日"),
                title=_("ケース %(n)s 支援プラン第%(v)s版の見直し") % {"n": plan.case.number, "v": plan.version},
                url=plan.case.get_absolute_url(),
                todo=True,
                mine=plan.case.lead_worker_id == viewer.user.pk,
            )
        )
    lead_cases = cases.filter(lead_organization_id__in=viewer.organization_ids(*disclosure.CASE_ROLES))
    consents = (
        Consent.objects.filter(case__in=lead_cases, status=Consent.Status.GIVEN, valid_until__range=(start, end))
        .select_related("case")
        .order_by("valid_until")
    )
    for consent in consents:
        items.append(
            DatedItem(
                on=consent.valid_until,
                kind=_("同意の有効期限"),
                title=_("ケース %(n)s 同意 #%(id)s の有効期限") % {"n": consent.case.number, "id": consent.pk},
                url=consent.case.get_absolute_url(),
                todo=True,
                mine=consent.case.lead_worker_id == viewer.user.pk,
            )
        )
    return items
