"""Persons, households and household members."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from casework.models import (
    AccessLog,
    Case,
    Household,
    HouseholdMember,
    Person,
)
from casework.services.common import log_change, require_lead

# ---------------------------------------------------------------------------
# Persons and households
# ---------------------------------------------------------------------------

PERSON_FIELDS = {
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "alias",
    "preferred_name",
    "is_anonymous",
    "birth_date",
    "gender",
    "postal_code",
    "prefecture",
    "city",
    "street",
    "building",
    "phone",
    "phone_alt",
    "address_secret",
}


@transaction.atomic
def person_create(*, by, case: Case | None = None, **fields) -> Person:
    """Register a person exactly as typed (names are never normalised; furigana becomes katakana)."""
    unknown = set(fields) - PERSON_FIELDS
    if unknown:
        raise TypeError(f"unknown person fields: {sorted(unknown)}")
    person = Person(created_by=by, **fields)
    person.full_clean(exclude=["search_key"])
    person.save()
    log_change(by, action=AccessLog.Action.CREATE, obj=person, person_ids=[person.pk], case=case)
    return person


@transaction.atomic()
def person_update(*, person: Person, by, case: Case | None = None, **fields) -> Person:
    """Change a person's details."""
    unknown = set(fields) - PERSON_FIELDS
    if unknown:
        raise TypeError(f"unknown person fields: {sorted(unknown)}")
    require_lead(by, case)
    for name, value in fields.items():
        setattr(person, name, value)
    person.full_clean(exclude=["search_key"])
    person.save()
    log_change(by, action=AccessLog.Action.CHANGE, obj=person, person_ids=[person.pk], case=case)
    return person


@transaction.atomic
def household_create(*, name: str, by, tags: list[str] | None = None, note: str = "") -> Household:
    """Create a household with its tags."""
    household = Household(name=name, tags=list(tags or []), note=note, created_by=by)
    household.full_clean()
    household.save()
    log_change(by, action=AccessLog.Action.CREATE, obj=household, person_ids=[])
    return household


@transaction.atomic()
def household_update(*, household: Household, by, case: Case | None = None, **fields) -> Household:
    """Change a household's name, tags or note."""
    require_lead(by, case)
    for name in ("name", "tags", "note"):
        if name in fields:
            setattr(household, name, fields[name])
    household.full_clean()
    household.save()
    person_ids = list(household.members.values_list("person_id", flat=True))
    log_change(by, action=AccessLog.Action.CHANGE, obj=household, person_ids=person_ids, case=case)
    return household


@transaction.atomic
def _refuse_second_self(household: Household, relationship: str, *, member_pk: int | None = None) -> None:
    """A household has at most one current 本人: the other members' 続柄 are read from that person."""
    if relationship != HouseholdMember.Relationship.SELF:
        return
    other = (
        HouseholdMember.objects.filter(
            household=household, relationship=HouseholdMember.Relationship.SELF, until__isnull=True
        )
        .exclude(pk=member_pk)
        .select_related("person")
        .first()
    )
    if other is not None:
        raise ValidationError(
            _("この世帯にはすでに続柄「本人」の方（%(name)s）がいます。続柄は本人から見た関係で選んでください。")
            % {"name": other.person.display_name}
        )


def household_add_member(
    *,
    household: Household,
    person: Person,
    relationship: str,
    by,
    lives_together: bool = True,
    is_key_person: bool = False,
    relationship_note: str = "",
    since: date | None = None,
    case: Case | None = None,
) -> HouseholdMember:
    """Add a person to a household (a person may be in several households over time)."""
    require_lead(by, case)
    if HouseholdMember.objects.filter(household=household, person=person, until__isnull=True).exists():
        raise ValidationError(_("この方はすでにこの世帯の世帯員です。"))
    _refuse_second_self(household, relationship)
    member = HouseholdMember(
        household=household,
        person=person,
        relationship=relationship,
        relationship_note=relationship_note,
        lives_together=lives_together,
        is_key_person=is_key_person,
        since=since,
    )
    member.full_clean()
    member.save()
    log_change(by, action=AccessLog.Action.CHANGE, obj=household, person_ids=[person.pk], case=case)
    return member


MEMBER_FIELDS = {"relationship", "relationship_note", "lives_together", "is_key_person", "since"}


@transaction.atomic()
def household_member_update(*, member: HouseholdMember, by, case: Case | None = None, **fields) -> HouseholdMember:
    """Change a member's 続柄, 同居/別居, key-person flag or start date (the row keeps its history dates)."""
    unknown = set(fields) - MEMBER_FIELDS
    if unknown:
        raise TypeError(f"unknown member fields: {sorted(unknown)}")
    require_lead(by, case)
    member = HouseholdMember.objects.select_for_update().get(pk=member.pk)
    for name, value in fields.items():
        setattr(member, name, value)
    if member.until is None:
        _refuse_second_self(member.household, member.relationship, member_pk=member.pk)
    if member.since and member.until and member.until < member.since:
        raise ValidationError({"since": _("世帯員となった日は、世帯員でなくなった日より前にしてください。")})
    member.full_clean()
    member.save()
    log_change(by, action=AccessLog.Action.CHANGE, obj=member.household, person_ids=[member.person_id], case=case)
    return member


@transaction.atomic()
def household_member_end(*, member: HouseholdMember, until: date, by, case: Case | None = None) -> HouseholdMember:
    """Record that a person left the household on a date; the row stays as history, nothing is deleted."""
    require_lead(by, case)
    member = HouseholdMember.objects.select_for_update().get(pk=member.pk)
    if until is None:
        raise ValidationError({"until": _("世帯員でなくなった日を入力してください。")})
    if member.until is not None:
        raise ValidationError(_("この方はすでに世帯から外れています。"))
    if member.since and until < member.since:
        raise ValidationError({"until": _("世帯員でなくなった日は、世帯員となった日より後にしてください。")})
    if until > timezone.localdate():
        raise ValidationError({"until": _("世帯員でなくなった日に未来の日付は入力できません。")})
    member.until = until
    member.save(update_fields=["until"])
    log_change(by, action=AccessLog.Action.CHANGE, obj=member.household, person_ids=[member.person_id], case=case)
    return member
