"""Reads for the casework kernel: memberships, what a user may do, and the case screens' figures."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from casework import audit
from casework.access import case_list_person_ids, cases_for_user
from casework.audit.selectors import audit_home_panels
from casework.choices import Role
from casework.models import (
    AccessLog,
    BreakGlassAccess,
    Case,
    CaseDomain,
    CaseState,
    CaseSubject,
    Consent,
    ContactRecord,
    Household,
    HouseholdMember,
    Membership,
    MembershipGrant,
    Organization,
    Person,
    SupportPlan,
    membership_active_q,
)
from casework.viewers import Viewer
from core.japanese import fold_case_number, normalize_case_number, search_key
from core.panels import Panel

REVIEW_DUE_DAYS = 14
OPEN_STATES = [CaseState.INTAKE, CaseState.ASSESSMENT, CaseState.PLANNING, CaseState.IN_SUPPORT]


def _case_list_prefetch(qs: QuerySet[Case]) -> QuerySet[Case]:
    """Load everything a case row shows in a fixed number of queries, whatever the page size."""
    return qs.select_related("household", "lead_organization", "lead_worker").prefetch_related(
        Prefetch("subject_rows", queryset=CaseSubject.objects.select_related("person").order_by("id")),
        "domain_rows",
    )


def _households_with_tag(tag: str) -> QuerySet[Household] | list[int]:
    """Return households carrying the tag: a JSON containment query on PostgreSQL, a scan on SQLite."""
    if connection.vendor == "postgresql":
        return Household.objects.filter(tags__contains=[tag]).values("pk")
    # SQLite (the embedded pilot) has no JSON containment lookup; households are few there.
    return [pk for pk, tags in Household.objects.values_list("pk", "tags") if tag in (tags or [])]


def case_search(
    viewer: Viewer,
    *,
    q: str = "",
    domain: str = "",
    state: str = "",
    tag: str = "",
    lead_organization: int | None = None,
    review_due: bool = False,
    mine: bool = False,
) -> QuerySet[Case]:
    """Return the viewer's cases matching the search and filters, newest first."""
    qs = cases_for_user(viewer)
    q = (q or "").strip()
    if q:
        key = search_key(q)
        # A whole number typed any way (Ｒ８－７, r8-7) finds that case; a fragment matches inside numbers.
        condition = Q(number__icontains=fold_case_number(q)) | Q(number=normalize_case_number(q))
        if key:
            condition |= Exists(
                CaseSubject.objects.filter(case=OuterRef("pk"), person__search_key__contains=key)
            ) | Exists(
                HouseholdMember.objects.filter(household=OuterRef("household"), person__search_key__contains=key)
            )
        qs = qs.filter(condition)
    if domain:
        qs = qs.filter(Exists(CaseDomain.objects.filter(case=OuterRef("pk"), domain=domain)))
    if state:
        qs = qs.filter(state=state)
    if tag:
        qs = qs.filter(household__in=_households_with_tag(tag))
    if lead_organization:
        qs = qs.filter(lead_organization_id=lead_organization)
    if review_due:
        qs = qs.filter(
            next_review_on__lte=timezone.localdate() + timedelta(days=REVIEW_DUE_DAYS), state__in=OPEN_STATES
        )
    if mine:
        qs = qs.filter(lead_worker=viewer.user)
    return _case_list_prefetch(qs.order_by("-opened_on", "-id"))


def my_cases(viewer: Viewer, *, limit: int = 10) -> list[Case]:
    """Return the open cases the viewer leads, most recently opened first."""
    return list(case_search(viewer, mine=True).filter(state__in=OPEN_STATES)[:limit])


def reviews_due(viewer: Viewer, *, limit: int = 10) -> list[Case]:
    """Return the viewer's open cases whose plan review is due within two weeks (or overdue)."""
    return list(case_search(viewer, review_due=True).order_by("next_review_on", "id")[:limit])


def household_members(household_id: int) -> list[HouseholdMember]:
    """Return a household's members, current ones first, with their persons."""
    return list(
        HouseholdMember.objects.filter(household_id=household_id).select_related("person").order_by("until", "id")
    )


def case_detail_context(case: Case, *, show_secret_addresses: bool) -> dict:
    """Return what the case page shows: household members, consent per person, plan, records, history."""
    today = timezone.localdate()
    members = household_members(case.household_id)
    subject_ids = set(case.subject_rows.values_list("person_id", flat=True))
    people = {m.person_id: m.person for m in members}
    for person in Person.objects.filter(pk__in=subject_ids - set(people)):
        people[person.pk] = person
    consents: dict[int, list[Consent]] = {pid: [] for pid in people}
    # Only the consents this case recorded: another case's consents stay with that case.
    for consent in Consent.objects.filter(case=case, person_id__in=list(people)).prefetch_related("organizations"):
        consents.setdefault(consent.person_id, []).append(consent)
    plans = list(case.plans.prefetch_related("roles__organization").order_by("-version"))
    current_plan = next((p for p in plans if p.status == SupportPlan.Status.APPROVED), None) or (
        plans[0] if plans else None
    )
    return {
        "members": members,
        "subject_ids": subject_ids,
        "people": people,
        "other_subjects": [people[pid] for pid in subject_ids if pid not in {m.person_id for m in members}],
        "consents": consents,
        "show_secret_addresses": show_secret_addresses,
        "plans": plans,
        "current_plan": current_plan,
        "assessments": list(case.assessments.select_related("by")),
        "contacts": list(
            ContactRecord.objects.filter(case=case).select_related("person", "recorded_by", "organization")[:50]
        ),
        "transitions": list(case.transitions.select_related("by")),
        "lead_changes": list(
            case.lead_changes.select_related("from_organization", "to_organization", "from_worker", "to_worker", "by")
        ),
        "worker_handovers": list(
            case.worker_handovers.select_related("handover", "handover__by", "from_worker", "to_worker").order_by(
                "handover__at", "id"
            )
        ),
        "team": list(case.team_rows.select_related("organization").order_by("ended_at", "added_at")),
        "today": today,
    }


def lead_worker_candidates(organization_id: int | None):
    """Return the active caseworkers and supervisors of an organization: who may be its 主担当者."""
    from django.contrib.auth import get_user_model

    if organization_id is None:
        return get_user_model().objects.none()
    return (
        get_user_model()
        .objects.filter(
            membership_active_q(prefix="memberships__"),
            is_active=True,
            memberships__organization_id=organization_id,
            memberships__role__in=[Role.CASEWORKER, Role.SUPERVISOR],
        )
        .distinct()
        .order_by("last_name", "first_name", "id")
    )


def lead_organization_candidates(case: Case):
    """Return the organizations that may take over as the case's lead: active windows and coordinators."""

    return (
        Organization.objects.filter(is_active=True, kind__in=[Organization.Kind.WINDOW, Organization.Kind.COORDINATOR])
        .exclude(pk=case.lead_organization_id)
        .order_by("kind", "name")
    )


def lead_worker_memberships(organizations) -> list[Membership]:
    """Return the active case-working memberships of the organizations, for a worker list grouped by organization."""
    return list(
        Membership.objects.active()
        .filter(
            organization__in=organizations,
            role__in=[Role.CASEWORKER, Role.SUPERVISOR],
            user__is_active=True,
        )
        .select_related("user", "organization")
        .order_by("organization__kind", "organization__name", "user__last_name", "user__first_name", "id")
    )


def break_glass_uses(start: datetime | date, end: datetime | date) -> QuerySet[BreakGlassAccess]:
    """Return break-glass accesses started in [start, end) for the auditor screens."""
    if isinstance(start, date) and not isinstance(start, datetime):
        start = timezone.make_aware(datetime.combine(start, datetime.min.time()))
    if isinstance(end, date) and not isinstance(end, datetime):
        end = timezone.make_aware(datetime.combine(end, datetime.min.time()))
    return (
        BreakGlassAccess.objects.filter(started_at__gte=start, started_at__lt=end)
        .select_related("user", "case", "reviewed_by")
        .order_by("-started_at", "-id")
    )


def home_panels(request, viewer: Viewer) -> list:
    """Return the casework kernel's panels for the viewer's home page."""
    from django.utils.translation import gettext as _

    panels = [
        Panel(
            _("所属"),
            "casework/panels/memberships.html",
            {"memberships": viewer.all_memberships, "active": viewer.active_membership},
            order=90,
        )
    ]
    if viewer.is_administrator:
        pending = MembershipGrant.objects.filter(status=MembershipGrant.Status.PENDING).count()
        panels.append(
            Panel(_("利用者と機関の管理"), "casework/panels/administration.html", {"pending_grants": pending}, order=10)
        )
    if viewer.works_cases:
        mine, due = my_cases(viewer), reviews_due(viewer)
        shown = case_list_person_ids([*mine, *due])
        try:
            if shown:
                audit.log_access(
                    actor=request.user,
                    action=AccessLog.Action.LIST,
                    object_type="case_home",
                    person_ids=shown,
                    basis=AccessLog.Basis.OWN_ORGANIZATION,
                )
            unavailable = False
        except audit.AccessLogUnavailable:
            # Fail closed: without a log row the names are not shown.
            mine, due, unavailable = [], [], True
        panels.append(
            Panel(
                _("担当ケース"), "casework/panels/my_cases.html", {"cases": mine, "unavailable": unavailable}, order=20
            )
        )
        panels.append(
            Panel(
                _("見直し期限が近いケース"),
                "casework/panels/reviews_due.html",
                {"cases": due, "unavailable": unavailable, "days": REVIEW_DUE_DAYS},
                order=21,
            )
        )
    if viewer.is_auditor:
        panels.extend(audit_home_panels(request, viewer))
    return panels


# ---------------------------------------------------------------------------
# An organization's own administrator (組織管理者): its staff, memberships and requests
# ---------------------------------------------------------------------------


def org_admin_accounts(organization: Organization):
    """The accounts of the organization: anyone who holds, held or was asked a role in it.

    Superusers and system administrators are never among them: an organization's administrator
    cannot touch the accounts that administer the whole system.
    """
    from django.contrib.auth import get_user_model

    admins = Membership.objects.filter(role=Role.ADMINISTRATOR, is_active=True).values("user_id")
    return (
        get_user_model()
        .objects.filter(
            Q(memberships__organization=organization) | Q(membership_grants__organization=organization),
            is_superuser=False,
        )
        .exclude(pk__in=admins)
        .distinct()
        .order_by("last_name", "first_name", "id")
    )


def org_admin_memberships(organization: Organization) -> list[Membership]:
    """The organization's memberships, current first, with their history (names are shown family first)."""
    return list(
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .prefetch_related("events")
        .order_by("-is_active", "user__last_name", "user__first_name", "role", "id")
    )


def org_admin_pending_grants(organization: Organization) -> list[MembershipGrant]:
    """The organization's requests waiting for a second person, oldest first."""
    return list(
        MembershipGrant.objects.filter(organization=organization, status=MembershipGrant.Status.PENDING)
        .select_related("user", "requested_by")
        .order_by("requested_at", "id")
    )


def org_admin_decided_grants(organization: Organization, *, limit: int = 20) -> list[MembershipGrant]:
    """The organization's latest decided requests: who asked, who approved or rejected, when."""
    return list(
        MembershipGrant.objects.filter(organization=organization)
        .exclude(status=MembershipGrant.Status.PENDING)
        .select_related("user", "requested_by", "decided_by")
        .order_by("-decided_at", "-id")[:limit]
    )
