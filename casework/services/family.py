"""Relatives outside the household and informal supports: what the genogram and ecomap draw."""

from __future__ import annotations

from django.db import transaction

from casework.models import AccessLog, Case, Relative, SupportTie
from casework.services.common import case_person_ids, log_change, require_lead

RELATIVE_FIELDS = {
    "name",
    "relationship",
    "relationship_note",
    "gender",
    "birth_date",
    "age",
    "is_deceased",
    "died_on",
    "partnership",
    "lives_in",
    "note",
}
SUPPORT_TIE_FIELDS = {"name", "kind", "strength", "quality", "note"}


@transaction.atomic
def relative_add(*, case: Case, by, **fields) -> Relative:
    """Record a relative outside the case's household (the lead organization only); names as typed."""
    unknown = set(fields) - RELATIVE_FIELDS
    if unknown:
        raise TypeError(f"unknown relative fields: {sorted(unknown)}")
    require_lead(by, case)
    relative = Relative(household_id=case.household_id, created_by=by, **fields)
    relative.full_clean()
    relative.save()
    log_change(by, action=AccessLog.Action.CREATE, obj=relative, person_ids=case_person_ids(case), case=case)
    return relative


@transaction.atomic
def relative_remove(*, case: Case, relative: Relative, by) -> None:
    """Remove a relative recorded on the case's household (the lead organization only)."""
    require_lead(by, case)
    if relative.household_id != case.household_id:
        raise ValueError("relative of another household")
    log_change(by, action=AccessLog.Action.CHANGE, obj=relative, person_ids=case_person_ids(case), case=case)
    relative.delete()


@transaction.atomic
def support_tie_add(*, case: Case, by, **fields) -> SupportTie:
    """Record an informal support around the case (the lead organization only)."""
    unknown = set(fields) - SUPPORT_TIE_FIELDS
    if unknown:
        raise TypeError(f"unknown support fields: {sorted(unknown)}")
    require_lead(by, case)
    tie = SupportTie(case=case, created_by=by, **fields)
    tie.full_clean()
    tie.save()
    log_change(by, action=AccessLog.Action.CREATE, obj=tie, person_ids=case_person_ids(case), case=case)
    return tie


@transaction.atomic
def support_tie_remove(*, case: Case, tie: SupportTie, by) -> None:
    """Remove an informal support from the case (the lead organization only)."""
    require_lead(by, case)
    if tie.case_id != case.pk:
        raise ValueError("support of another case")
    log_change(by, action=AccessLog.Action.CHANGE, obj=tie, person_ids=case_person_ids(case), case=case)
    tie.delete()
