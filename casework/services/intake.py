"""Intake: a new consultation's household, its members and the case it opens, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from casework.models import Case, Person
from casework.services.cases import case_add_subject, case_open
from casework.services.persons import household_add_member, household_create, person_create


@dataclass(frozen=True)
class NewMember:
    """One household member as the intake form gives it: an existing person chosen among duplicates, or new."""

    relationship: str
    existing: Person | None = None
    person_fields: dict = field(default_factory=dict)
    relationship_note: str = ""
    lives_together: bool = True
    is_key_person: bool = False
    is_subject: bool = False


def _join(member: NewMember, *, household, by, case: Case | None = None) -> Person:
    person = member.existing or person_create(by=by, case=case, **member.person_fields)
    household_add_member(
        household=household,
        person=person,
        relationship=member.relationship,
        relationship_note=member.relationship_note,
        lives_together=member.lives_together,
        is_key_person=member.is_key_person,
        by=by,
        case=case,
    )
    return person


def intake_open(*, by, household_name: str, tags: list[str], members: list[NewMember], **case_fields) -> Case:
    """Create the household and its members and open the case led by the intake worker; all or nothing."""
    with transaction.atomic():
        household = household_create(name=household_name, tags=tags, by=by)
        subjects = []
        for member in members:
            person = _join(member, household=household, by=by)
            if member.is_subject:
                subjects.append(person)
        if not subjects:
            raise ValidationError(_("対象者を一人以上選んでください（「このケースの対象者」）。"))
        return case_open(household=household, subjects=subjects, lead_worker=by, by=by, **case_fields)


def case_member_join(*, case: Case, member: NewMember, by) -> Person:
    """Add a person (new or chosen among duplicates) to the case's household, and as a subject if asked."""
    with transaction.atomic():
        person = _join(member, household=case.household, by=by, case=case)
        if member.is_subject:
            case_add_subject(case=case, person=person, by=by)
    return person
