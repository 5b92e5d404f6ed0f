"""Fetch-and-authorize helpers for cases and everything under them; outsiders get 404."""

from __future__ import annotations

from datetime import date

from django.db.models import Model, Q, QuerySet
from django.http import Http404

from casework import audit
from casework.disclosure import (
    CASE_ROLES,
    CHANGE_CASE,
    VIEW_CASE,
    CaseAccess,
    Purpose,
    active_break_glass,
    case_basis,
    cases_for_user,
    is_lead_member,
)
from casework.models import AccessLog, Case, CaseSubject, HouseholdMember, Person, PlanRole
from casework.viewers import Viewer, viewer_for
from core.japanese import search_key, to_katakana_reading

# Re-exported so callers keep one import for case access.
__all__ = [
    "CASE_ROLES",
    "CHANGE_CASE",
    "VIEW_CASE",
    "CaseAccess",
    "active_break_glass",
    "cases_for_user",
    "is_lead_member",
]


# PostgreSQL's bigint: ids past it are no record (and would overflow SQLite's INTEGER: a 500).
MAX_ID = 2**63 - 1


def object_pk(value) -> int | None:
    """Return the value as a record id, or None when it cannot be one (not digits, or past 64 bits)."""
    text = str(value)
    if not text.isascii() or not text.isdigit():
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def case_access(user_or_viewer, case: Case) -> CaseAccess | None:
    """Return how the user may see the case now, or None (the disclosure module decides)."""
    return case_basis(user_or_viewer, case, Purpose.VIEW_CASE)


def can_change_case(user_or_viewer, case: Case) -> bool:
    """Whether the user may write records under the case (the disclosure module decides)."""
    return case_basis(user_or_viewer, case, Purpose.CHANGE_CASE) is not None


def person_ids_for_case(case: Case) -> list[int]:
    """Return the ids of every person whose data the case shows: subjects and household members."""
    subjects = CaseSubject.objects.filter(case_id=case.pk).order_by().values_list("person_id", flat=True)
    members = (
        HouseholdMember.objects.filter(household_id=case.household_id).order_by().values_list("person_id", flat=True)
    )
    return sorted(set(subjects.union(members)))


def log_case_access(
    request, case: Case, access: CaseAccess, *, action: str, object_type: str = "case", object_id=None, person_ids=None
) -> None:
    """Write the access-log row for an allowed access under a case (raises AccessLogUnavailable)."""
    audit.log_access(
        actor=request.user,
        action=action,
        object_type=object_type,
        object_id=case.pk if object_id is None else object_id,
        person_ids=person_ids_for_case(case) if person_ids is None else person_ids,
        basis=access.basis,
        basis_ref=access.basis_ref,
        organization_id=access.organization_id,
        auth_strength=access.auth_strength,
    )


def log_case_list(request, rows: list[Case], filters: dict) -> None:
    """Write the access-log row for a page of the case list: the persons it shows and which filters were used."""
    audit.log_access(
        actor=request.user,
        action=AccessLog.Action.SEARCH if filters.get("q") else AccessLog.Action.LIST,
        object_type="case",
        person_ids=case_list_person_ids(rows),
        basis=AccessLog.Basis.OWN_ORGANIZATION,
        # Which filters were used, never the typed text (it may be a name): the log holds no content.
        reason=" ".join(f"filter={name}" for name, value in filters.items() if value),
    )


def sees_secret_addresses(user_or_viewer, case: Case) -> bool:
    """Whether the user may see and edit 住所秘匿 addresses on this case: the lead organization only."""
    return is_lead_member(user_or_viewer, case)


def deny(request, *, object_type: str, object_id) -> None:
    """Log the refused access, then answer 404 as if nothing were there (every app's access helpers use this)."""
    audit.log_access(
        actor=request.user,
        action=AccessLog.Action.DENIED,
        object_type=object_type,
        object_id=object_id,
        outcome=AccessLog.Outcome.DENIED,
    )
    raise Http404


def _authorized_case(request, pk, *, for_change: bool = False, purpose: str | None = None) -> Case:
    """Fetch the case and attach the user's basis for the purpose, or log the refusal and 404; writes no allowed row.

    purpose defaults to VIEW_CASE (CHANGE_CASE with for_change); LEAD_CHANGE is the lead
    organization's own: team, state, persons, household, consents.
    """
    case_id = object_pk(pk)
    case = (
        Case.objects.select_related("household", "lead_organization", "lead_worker").filter(pk=case_id).first()
        if case_id is not None
        else None
    )
    viewer = viewer_for(request)
    purpose = purpose or (Purpose.CHANGE_CASE if for_change else Purpose.VIEW_CASE)
    access = case_basis(viewer, case, purpose) if case is not None else None
    if access is None:
        deny(request, object_type="case", object_id=pk)
    case.access = access
    return case


def get_case_for_user(
    request, pk, *, action: str = AccessLog.Action.VIEW, for_change: bool = False, purpose: str | None = None
) -> Case:
    """Return the case if the user may use it for the purpose, logging the access; else log and 404."""
    case = _authorized_case(request, pk, for_change=for_change, purpose=purpose)
    log_case_access(request, case, case.access, action=action)
    return case


def get_case_for_document(request, pk, *, document: str, action: str, person_ids=None) -> Case:
    """Return the case for a form (帳票) or drawing made from it, when the disclosure module lets the user
    see the case now; log it as 印刷, 出力 (PDF) or 閲覧 (a drawing) with the persons it shows; else log and 404."""
    case = _authorized_case(request, pk)
    log_case_access(request, case, case.access, action=action, object_type=document, person_ids=person_ids)
    return case


def log_blank_form(request, *, document: str, action: str) -> None:
    """Record the printing of a blank form: no person, the user's own organization."""
    audit.log_access(
        actor=request.user,
        action=action,
        object_type=document,
        person_ids=[],
        basis=AccessLog.Basis.OWN_ORGANIZATION,
    )


def get_case_for_lead_member(request, pk, *, action: str = AccessLog.Action.VIEW) -> Case:
    """Return the case when the user works for its lead organization and may change it; else log and 404."""
    case = _authorized_case(request, pk, purpose=Purpose.LEAD_CHANGE)
    log_case_access(request, case, case.access, action=action)
    return case


def get_case_record_for_user(
    request,
    case_pk,
    model: type[Model],
    record_pk,
    *,
    action: str = AccessLog.Action.VIEW,
    for_change: bool = False,
    queryset: QuerySet | None = None,
    purpose: str | None = None,
) -> tuple[Case, Model]:
    """Return (case, record) when the record belongs to that case and the user may use it, logging it
    once with the record's person (or the case's persons); else log the refusal and 404."""
    case = _authorized_case(request, case_pk, for_change=for_change, purpose=purpose)
    records = queryset if queryset is not None else model.objects.all()
    record_id = object_pk(record_pk)
    record = records.filter(pk=record_id, **_case_filter(model, case)).first() if record_id is not None else None
    object_type = model._meta.model_name
    if record is None:
        deny(request, object_type=object_type, object_id=record_pk)
    person_id = record.pk if model is Person else getattr(record, "person_id", None)
    person_ids = [person_id] if person_id else person_ids_for_case(case)
    log_case_access(
        request,
        case,
        case.access,
        action=action,
        object_type=object_type,
        object_id=record.pk,
        person_ids=person_ids,
    )
    return case, record


def _case_filter(model: type[Model], case: Case) -> dict:
    """How a record hangs under a case: directly, through its plan or household, or through the case's persons.

    A consent belongs to the case that recorded it: a person shared with another case does not
    open that case's consents (read, withdraw, download) to this one.
    """

    if model is Person:
        return {"pk__in": person_ids_for_case(case)}
    if model is HouseholdMember:
        return {"household_id": case.household_id}
    if model is PlanRole:
        return {"plan__case": case}
    return {"case": case}


def _possible_duplicates(viewer: Viewer, *, family_name_kana: str, given_name_kana: str, birth_date: date | None):
    """Return persons within the viewer's cases with the same folded reading and birth date."""
    if not birth_date:
        return []
    key = search_key(to_katakana_reading(family_name_kana) + to_katakana_reading(given_name_kana))
    if not key:
        return []
    cases = cases_for_user(viewer)
    reachable = Q(case_subject_rows__case__in=cases) | Q(memberships__household__cases__in=cases)
    candidates = Person.objects.filter(reachable, birth_date=birth_date).distinct()
    found = [p for p in candidates if p.kana_key == key]
    # The hint names a person's cases only where the viewer may open them: another organization's
    # case number (and that the person is known there) is not the viewer's to see.
    numbers: dict[int, list[str]] = {p.pk: [] for p in found}
    rows = (
        CaseSubject.objects.filter(person_id__in=list(numbers), case__in=cases)
        .order_by("case__number")
        .values_list("person_id", "case__number")
    )
    for person_id, number in rows:
        numbers[person_id].append(number)
    for p in found:
        p.visible_case_numbers = numbers[p.pk]
    return found


def possible_duplicates_for_user(request, *, family_name_kana: str, given_name_kana: str, birth_date) -> list[Person]:
    """Return the duplicate-person hints for a member form, logging the persons a hint shows."""
    found = _possible_duplicates(
        viewer_for(request), family_name_kana=family_name_kana, given_name_kana=given_name_kana, birth_date=birth_date
    )
    if found:
        audit.log_access(
            actor=request.user,
            action=AccessLog.Action.SEARCH,
            object_type="person_duplicates",
            person_ids=[p.pk for p in found],
            basis=AccessLog.Basis.OWN_ORGANIZATION,
        )
    return found


def case_list_person_ids(cases) -> list[int]:
    """Return the ids of the persons a page of cases shows (its subjects)."""
    return sorted({row.person_id for case in cases for row in case.subject_rows.all()})


def log_break_glass_miss(request, *, number: str, reason: str) -> None:
    """Record an emergency-access attempt on a case number that does not exist (the caller answers 404)."""
    audit.log_access(
        actor=request.user,
        action=AccessLog.Action.DENIED,
        object_type="case_number",
        object_id=number[:40],
        reason=reason,
        basis=AccessLog.Basis.BREAK_GLASS,
        outcome=AccessLog.Outcome.DENIED,
    )


# ---------------------------------------------------------------------------
# 開示請求 (privacy officers: the auditor role, 個人情報保護担当)
# ---------------------------------------------------------------------------


def get_disclosure_request_for_user(request, pk, *, action: str = AccessLog.Action.VIEW, reason: str = ""):
    """Return a 開示請求 for a privacy officer and log what its screen shows; 404 to everyone else."""
    from casework.models import DisclosureRequest

    viewer = viewer_for(request)
    if not viewer.is_auditor or not (0 < int(pk) <= MAX_ID):
        raise Http404
    found = DisclosureRequest.objects.select_related("person", "created_by", "decided_by").filter(pk=pk).first()
    if found is None:
        raise Http404
    audit.log_access(
        actor=request.user,
        action=action,
        object_type="disclosurerequest",
        object_id=found.pk,
        person_ids=[found.person_id],
        basis=AccessLog.Basis.AUDIT,
        basis_ref=f"disclosure_request:{found.pk}",
        reason=reason,
    )
    return found


def log_disclosure_candidates(request, person_ids: list[int]) -> None:
    """Log the persons a privacy officer's search for a requester showed."""
    audit.log_access(
        actor=request.user,
        action=AccessLog.Action.SEARCH,
        object_type="person",
        person_ids=person_ids,
        basis=AccessLog.Basis.AUDIT,
        reason="開示請求の本人確認",
    )


def log_handover_list(request, *, organization, leaving, groups) -> None:
    """The 人事異動 screen listing a worker's open items writes one row: case and item ids, no names."""
    case_ids = sorted({item.case_id for _source, items in groups for item in items if item.case_id})
    audit.log_access(
        actor=request.user,
        action=AccessLog.Action.LIST,
        object_type="handover",
        object_id=leaving.pk,
        reason=f"organization={organization.pk} cases={','.join(map(str, case_ids))}"[:500],
    )


# ---------------------------------------------------------------------------
# 名寄せ (links and merges of two records of the same person)
# ---------------------------------------------------------------------------


def get_case_person_for_user(request, pk, person_pk, *, action: str = AccessLog.Action.VIEW) -> tuple[Case, Person]:
    """Return (case, person) for a person the case shows, logging it; a record merged away answers with its survivor.

    The survivor is returned (with `redirected_from` set) only when the case shows it and the
    viewer may open the case; anything else is logged as denied and answered 404.
    """
    from casework.services.person_matches import merged_survivor_id

    case = _authorized_case(request, pk)
    person_id = object_pk(person_pk)
    shown = set(person_ids_for_case(case))
    redirected_from = None
    if person_id is not None and person_id not in shown:
        survivor = merged_survivor_id(person_id)
        if survivor in shown:
            redirected_from, person_id = person_id, survivor
    if person_id not in shown:
        deny(request, object_type="person", object_id=person_pk)
    person = Person.objects.get(pk=person_id)
    person.redirected_from = redirected_from
    log_case_access(
        request, case, case.access, action=action, object_type="person", object_id=person.pk, person_ids=[person.pk]
    )
    return case, person


def get_person_in_reach_for_user(request, person_pk) -> Person:
    """Return a person shown by a case the viewer may open now (disclosure.person_basis); else log and 404. Logs nothing allowed."""
    from casework.disclosure import person_basis

    person_id = object_pk(person_pk)
    person = Person.objects.filter(pk=person_id).first() if person_id is not None else None
    if person is None or person_basis(viewer_for(request), person.pk) is None:
        deny(request, object_type="person", object_id=person_pk)
    return person


def log_match_candidates(request, case: Case, person: Person, candidates) -> None:
    """Log the 名寄せ candidates a person's page showed: the person and every candidate, on the case's basis."""
    audit.log_access(
        actor=request.user,
        action=AccessLog.Action.SEARCH,
        object_type="person_match_candidates",
        object_id=person.pk,
        person_ids=sorted({person.pk, *(c.person.pk for c in candidates)}),
        basis=case.access.basis,
        basis_ref=case.access.basis_ref,
        organization_id=case.access.organization_id,
        auth_strength=case.access.auth_strength,
    )


def get_person_match_for_user(request, pk, *, action: str = AccessLog.Action.VIEW):
    """Return a link or merge to a member of an organization asked to agree who may see its records now; else log and 404.

    Both records must be within the viewer's reach (for a merge carried out, the survivor: the
    other record has no case left). The row logs both records' ids on the viewer's basis.
    """
    from casework.disclosure import case_organization_ids, person_basis
    from casework.models import PersonMatch

    viewer = viewer_for(request)
    match_id = object_pk(pk)
    match = (
        PersonMatch.objects.select_related("survivor", "merged", "requested_organization", "requested_by")
        .filter(pk=match_id)
        .first()
        if match_id is not None and viewer.works_cases
        else None
    )
    basis = None
    if match is not None and match.required_organizations.filter(pk__in=case_organization_ids(viewer)).exists():
        merged_away = match.kind == PersonMatch.Kind.MERGE and match.state == PersonMatch.State.DONE
        needed = [match.survivor_id] if merged_away else [match.survivor_id, match.merged_id]
        bases = [person_basis(viewer, pid) for pid in needed]
        basis = bases[0] if all(b is not None for b in bases) else None
    if basis is None:
        deny(request, object_type="personmatch", object_id=pk)
    audit.log_access(
        actor=request.user,
        action=action,
        object_type="personmatch",
        object_id=match.pk,
        person_ids=sorted({match.survivor_id, match.merged_id}),
        basis=basis.basis,
        basis_ref=basis.basis_ref,
        organization_id=basis.organization_id,
        auth_strength=basis.auth_strength,
    )
    return match


def log_match_list(request, matches) -> None:
    """Log the 名寄せ requests a list showed (both records of each)."""
    audit.log_access(
        actor=request.user,
        action=AccessLog.Action.LIST,
        object_type="personmatch",
        person_ids=sorted({pid for m in matches for pid in (m.survivor_id, m.merged_id)}),
        basis=AccessLog.Basis.OWN_ORGANIZATION,
    )


def get_approval_for_supervisor(request, pk, approval_pk, *, action: str = AccessLog.Action.VIEW):
    """Return (case, approval) when the user is a supervisor of the case's lead organization (in that hat).

    The 決裁 screen shows the request's reason and the closure choices (case content), so it opens only to
    the lead organization's supervisors; everyone else, the requesting caseworker included, gets 404.
    """
    from casework.choices import Role
    from casework.models import ApprovalRequest

    case = _authorized_case(request, pk, purpose=Purpose.LEAD_CHANGE)
    approval_id = object_pk(approval_pk)
    approval = (
        ApprovalRequest.objects.select_related("requested_by", "decided_by", "plan", "organization")
        .filter(pk=approval_id, case=case)
        .first()
        if approval_id is not None
        else None
    )
    if approval is None or case.lead_organization_id not in viewer_for(request).organization_ids(Role.SUPERVISOR):
        deny(request, object_type="approvalrequest", object_id=approval_pk)
    log_case_access(request, case, case.access, action=action, object_type="approvalrequest", object_id=approval.pk)
    return case, approval


def log_approval_list(request, rows) -> None:
    """The 決裁 list shows case numbers, kinds and staff names, no person: one row naming the requests."""
    audit.log_access(
        actor=request.user,
        action=AccessLog.Action.LIST,
        object_type="approvalrequest",
        person_ids=[],
        basis=AccessLog.Basis.OWN_ORGANIZATION,
        reason=("ids=" + ",".join(str(row.pk) for row in rows))[:500],
    )


def get_calendar_feed(request, secret: str):
    """Return (feed, viewer) for a live feed URL: the feed's membership, still held, as the viewer; else 404.

    A feed that exists but is revoked, or whose account is disabled or membership ended, logs the refusal
    (a leaked URL still being polled is worth an auditor's look); an unknown secret logs nothing (no one
    to name).
    """
    from casework.calendar import has_calendar
    from casework.models import CalendarFeed, Membership
    from casework.services.api_tokens import token_digest
    from casework.viewers import ACTIVE_MEMBERSHIP_KEY

    if not secret or len(secret) > 100:
        raise Http404
    feed = CalendarFeed.objects.select_related("user", "membership").filter(digest=token_digest(secret)).first()
    if feed is None:
        raise Http404
    viewer = Viewer(feed.user, {ACTIVE_MEMBERSHIP_KEY: feed.membership_id})
    live = (
        feed.revoked_at is None
        and feed.user.is_active
        and Membership.objects.active().filter(pk=feed.membership_id, user_id=feed.user_id).exists()
        and viewer.active_membership is not None
        and viewer.active_membership.pk == feed.membership_id
        and has_calendar(viewer)
    )
    if not live:
        audit.log_access(
            actor=feed.user,
            action=AccessLog.Action.DENIED,
            object_type="calendar_feed",
            object_id=feed.pk,
            outcome=AccessLog.Outcome.DENIED,
            organization_id=feed.membership.organization_id,
            role=feed.membership.role,
            auth_strength=AccessLog.AuthStrength.FEED_TOKEN,
        )
        raise Http404
    return feed, viewer


def log_calendar_feed(feed, viewer: Viewer, items) -> None:
    """Write the access-log row for one fetch of a feed: the persons of every case its items name."""
    from django.utils import timezone

    from casework.models import CalendarFeed

    case_ids = {item.case_id for item in items if item.case_id}
    person_ids = CaseSubject.objects.filter(case_id__in=case_ids).values_list("person_id", flat=True)
    audit.log_access(
        actor=feed.user,
        action=AccessLog.Action.EXPORT,
        object_type="calendar_feed",
        object_id=feed.pk,
        person_ids=list(person_ids),
        basis=AccessLog.Basis.OWN_ORGANIZATION,
        basis_ref=f"calendarfeed:{feed.pk}",
        organization_id=viewer.active_membership.organization_id,
        role=viewer.active_membership.role,
        auth_strength=AccessLog.AuthStrength.FEED_TOKEN,
        reason=f"カレンダー配信（ICS）{len(items)}件",
    )
    CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=timezone.now())


# ---------------------------------------------------------------------------
# Retention and disposal (system administrators: record ids and numbers, never content)
# ---------------------------------------------------------------------------


def log_retention_list(request, *, object_type: str, object_id, rows) -> None:
    """A retention screen listing records writes one row: the kinds and ids it showed, no names."""
    shown = ",".join(f"{row.kind}:{row.object_id}" for row in rows)
    audit.log_access(
        actor=request.user,
        action=AccessLog.Action.LIST,
        object_type=object_type,
        object_id=object_id,
        reason=shown[:500],
    )


def log_legal_hold_list(request, holds) -> None:
    """The legal-hold list shows case numbers and person ids: one row naming them."""
    audit.log_access(
        actor=request.user,
        action=AccessLog.Action.LIST,
        object_type="legalhold",
        person_ids=[h.person_id for h in holds if h.person_id],
        reason=("cases=" + ",".join(str(h.case_id) for h in holds if h.case_id))[:500],
    )
