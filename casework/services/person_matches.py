"""名寄せ: link two records of the same person, or merge one into the other, with every lead organization's agreement.

A link keeps both records and says they are the same person. A merge moves every reference to
the merged record (found through Django's model meta, so a foreign key added later moves too) onto
the survivor and records which rows moved; unmerging moves exactly those rows back. Each step is
asked of the disclosure module and written to the access log (ids only, never the reason's text).
"""

from __future__ import annotations

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from casework import audit, disclosure
from casework.disclosure import Basis, Purpose
from casework.models import (
    AccessLog,
    CaseSubject,
    HouseholdMember,
    Organization,
    Person,
    PersonMatch,
    PersonMatchAgreement,
)

REASON_MAX = 500

# The 名寄せ history itself names both records and must keep naming them: a merge never moves these.
MATCH_HISTORY_FIELDS = frozenset({"casework.personmatch.survivor", "casework.personmatch.merged"})


def person_reference_fields() -> list:
    """Return every concrete foreign key (or one-to-one) to Person in every installed model, but the 名寄せ history."""
    fields = []
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is Person:
                if f"{model._meta.label_lower}.{field.name}" not in MATCH_HISTORY_FIELDS:
                    fields.append(field)
    return fields


def field_label(field) -> str:
    return f"{field.model._meta.label_lower}.{field.name}"


# ---------------------------------------------------------------------------
# Who may ask, who must agree
# ---------------------------------------------------------------------------


def _clean_reason(reason: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise ValidationError({"reason": _("理由を入力してください。")})
    if len(text) > REASON_MAX:
        raise ValidationError({"reason": _("理由は%(n)s文字以内で入力してください。") % {"n": REASON_MAX}})
    return text


def _lead_basis(by, person_ids: list[int]) -> Basis:
    """Return `by`'s basis as a member of a lead organization of a case showing one of the persons, or refuse.

    Persons are changed by their case's lead organization only (as everywhere in casework).
    """
    for pid in person_ids:
        basis = disclosure.person_basis(by, pid, Purpose.LEAD_CHANGE)
        if basis is not None:
            return basis
    raise ValidationError(_("名寄せは、どちらかの記録のケースの主担当機関の職員だけが行えます。"))


def _require_reach(by, person_ids: list[int]) -> None:
    # Both records must be within the viewer's reach now; the message names neither.
    if any(disclosure.person_basis(by, pid) is None for pid in person_ids):
        raise ValidationError(_("この記録は名寄せの対象にできません。"))


def _merged_into(person_id: int) -> PersonMatch | None:
    return PersonMatch.objects.filter(
        kind=PersonMatch.Kind.MERGE, state=PersonMatch.State.DONE, merged_id=person_id
    ).first()


def _log(by, match: PersonMatch, *, action: str, basis: Basis, step: str, outcome=AccessLog.Outcome.ALLOWED) -> None:
    audit.log_access(
        actor=by,
        action=action,
        object_type="personmatch",
        object_id=match.pk,
        person_ids=sorted({match.survivor_id, match.merged_id}),
        basis=basis.kind,
        basis_ref=basis.ref,
        organization_id=basis.organization_id,
        auth_strength=basis.auth_strength,
        # The step, never the typed reason (the log holds no content).
        reason=f"名寄せ:{match.kind}:{step}",
        outcome=outcome,
    )


def _lock_persons(*persons: Person) -> None:
    # Both records in id order, so two requests for the same pair wait for each other instead of both passing.
    list(Person.objects.select_for_update().filter(pk__in=[p.pk for p in persons]).order_by("pk"))


# ---------------------------------------------------------------------------
# Services
# ---------------------------------------------------------------------------


@transaction.atomic
def person_match_request(*, kind: str, survivor: Person, merged: Person, reason: str, by) -> PersonMatch:
    """Ask to link (or merge `merged` into `survivor`); done at once when only `by`'s organization leads both."""
    if kind not in PersonMatch.Kind.values:
        raise ValidationError(_("名寄せの種別が正しくありません。"))
    reason = _clean_reason(reason)
    if survivor.pk == merged.pk:
        raise ValidationError(_("同じ記録どうしは名寄せできません。"))
    ids = [survivor.pk, merged.pk]
    _lock_persons(survivor, merged)
    if _merged_into(survivor.pk) or _merged_into(merged.pk):
        raise ValidationError(_("どちらかの記録はすでに統合されています。"))
    _require_reach(by, ids)
    basis = _lead_basis(by, ids)
    pair = Q(survivor=survivor, merged=merged) | Q(survivor=merged, merged=survivor)
    live = PersonMatch.objects.filter(pair, kind=kind, state__in=[PersonMatch.State.REQUESTED, PersonMatch.State.DONE])
    if live.exists():
        raise ValidationError(_("この2つの記録には、すでに同じ名寄せ（申請中または実施済み）があります。"))
    if kind == PersonMatch.Kind.MERGE:
        _refuse_overlap(survivor, merged)
    required = disclosure.person_lead_organization_ids(ids)
    for org in Organization.objects.filter(pk__in=required).order_by("pk"):
        # An organization asked to agree must already hold both records: a request may not tell it more.
        if not all(disclosure.organization_reaches_person(org.pk, pid) for pid in ids):
            raise ValidationError(
                _(
                    "「%(org)s」はもう一方の記録を見る根拠がないため、同意を求められません。"
                    "先に本人同意にもとづいてケースチームに加えてください。"
                )
                % {"org": org.name}
            )
    match = PersonMatch(
        kind=kind,
        survivor=survivor,
        merged=merged,
        reason=reason,
        requested_by=by,
        requested_organization_id=basis.organization_id,
    )
    match.full_clean(exclude=["moved"])
    try:
        with transaction.atomic():
            match.save()
    except IntegrityError as exc:
        raise ValidationError(_("どちらかの記録はすでに統合の申請中か統合済みです。")) from exc
    match.required_organizations.set(required)
    PersonMatchAgreement.objects.create(match=match, organization_id=basis.organization_id, agreed_by=by)
    _log(by, match, action=AccessLog.Action.CREATE, basis=basis, step="request")
    _carry_out_when_agreed(match, by=by, basis=basis)
    return match


def _refuse_overlap(survivor: Person, merged: Person) -> None:
    """Two subjects of one case, or two current members of one household, cannot become one row there."""
    shared_case = CaseSubject.objects.filter(person=survivor, case__subject_rows__person=merged).exists()
    shared_household = HouseholdMember.objects.filter(
        person=survivor,
        until__isnull=True,
        household__members__person=merged,
        household__members__until__isnull=True,
    ).exists()
    if shared_case or shared_household:
        raise ValidationError(
            _("2つの記録が同じケースの対象者か同じ世帯の世帯員のため統合できません。先に紐付けを使ってください。")
        )


@transaction.atomic
def person_match_agree(*, match: PersonMatch, by) -> PersonMatch:
    """Record the agreement of `by`'s organization; the last agreement carries the link or merge out."""
    match = PersonMatch.objects.select_for_update().get(pk=match.pk)
    if match.state != PersonMatch.State.REQUESTED:
        raise ValidationError(_("この申請はすでに処理されています。"))
    ids = [match.survivor_id, match.merged_id]
    _require_reach(by, ids)
    basis = _lead_basis(by, ids)
    required = set(match.required_organizations.values_list("pk", flat=True))
    if basis.organization_id not in required:
        raise ValidationError(_("この申請に同意する機関ではありません。"))
    if match.agreements.filter(organization_id=basis.organization_id).exists():
        raise ValidationError(_("この機関はすでに同意しています。"))
    PersonMatchAgreement.objects.create(match=match, organization_id=basis.organization_id, agreed_by=by)
    _log(by, match, action=AccessLog.Action.CHANGE, basis=basis, step="agree")
    _carry_out_when_agreed(match, by=by, basis=basis)
    return match


def _carry_out_when_agreed(match: PersonMatch, *, by, basis: Basis) -> None:
    required = set(match.required_organizations.values_list("pk", flat=True))
    agreed = set(match.agreements.values_list("organization_id", flat=True))
    if not required <= agreed:
        return
    survivor = Person.objects.get(pk=match.survivor_id)
    merged = Person.objects.get(pk=match.merged_id)
    _lock_persons(survivor, merged)
    if match.kind == PersonMatch.Kind.MERGE:
        if _merged_into(survivor.pk) or _merged_into(merged.pk):
            raise ValidationError(_("どちらかの記録はすでに統合されています。"))
        _refuse_overlap(survivor, merged)
        moved = {}
        for field in person_reference_fields():
            rows = field.model._base_manager.filter(**{field.attname: merged.pk})
            row_ids = sorted(rows.values_list("pk", flat=True))
            if row_ids:
                field.model._base_manager.filter(pk__in=row_ids).update(**{field.attname: survivor.pk})
                moved[field_label(field)] = row_ids
        match.moved = moved
    match.state = PersonMatch.State.DONE
    match.done_at = timezone.now()
    match.save(update_fields=["state", "done_at", "moved"])
    _log(by, match, action=AccessLog.Action.CHANGE, basis=basis, step="done")


@transaction.atomic
def person_match_withdraw(*, match: PersonMatch, reason: str, by) -> PersonMatch:
    """Withdraw a request that still waits for agreements (any organization asked may decline it)."""
    reason = _clean_reason(reason)
    match = PersonMatch.objects.select_for_update().get(pk=match.pk)
    if match.state != PersonMatch.State.REQUESTED:
        raise ValidationError(_("この申請はすでに処理されています。"))
    basis = _lead_basis(by, [match.survivor_id, match.merged_id])
    if not match.required_organizations.filter(pk=basis.organization_id).exists():
        raise ValidationError(_("この申請を取り下げられる機関ではありません。"))
    match.state = PersonMatch.State.WITHDRAWN
    match.ended_by, match.ended_at, match.end_reason = by, timezone.now(), reason
    match.save(update_fields=["state", "ended_by", "ended_at", "end_reason"])
    _log(by, match, action=AccessLog.Action.CHANGE, basis=basis, step="withdraw")
    return match


@transaction.atomic
def person_match_undo(*, match: PersonMatch, reason: str, by) -> PersonMatch:
    """Unlink, or unmerge: move back exactly the rows the merge moved (any organization that agreed may undo)."""
    reason = _clean_reason(reason)
    match = PersonMatch.objects.select_for_update().get(pk=match.pk)
    if match.state != PersonMatch.State.DONE:
        raise ValidationError(_("実施済みの名寄せだけを取り消せます。"))
    basis = _lead_basis(by, [match.survivor_id, match.merged_id])
    if not match.required_organizations.filter(pk=basis.organization_id).exists():
        raise ValidationError(_("この名寄せを取り消せる機関ではありません。"))
    if match.kind == PersonMatch.Kind.MERGE:
        later = _merged_into(match.survivor_id)
        if later is not None:
            raise ValidationError(_("残した記録がその後さらに統合されています。先にそちらの統合を取り消してください。"))
        _lock_persons(match.survivor, match.merged)
        fields = {field_label(f): f for f in person_reference_fields()}
        for label, row_ids in (match.moved or {}).items():
            field = fields.get(label)
            if field is None:
                continue
            field.model._base_manager.filter(pk__in=row_ids, **{field.attname: match.survivor_id}).update(
                **{field.attname: match.merged_id}
            )
    match.state = PersonMatch.State.UNDONE
    match.ended_by, match.ended_at, match.end_reason = by, timezone.now(), reason
    match.save(update_fields=["state", "ended_by", "ended_at", "end_reason"])
    _log(by, match, action=AccessLog.Action.CHANGE, basis=basis, step="undo")
    return match


def merged_survivor_id(person_id: int) -> int | None:
    """Return the record a merged record now redirects to (following later merges), or None."""
    seen = set()
    current = person_id
    while (match := _merged_into(current)) is not None and match.survivor_id not in seen:
        seen.add(current)
        current = match.survivor_id
    return current if current != person_id else None


__all__ = [
    "MATCH_HISTORY_FIELDS",
    "merged_survivor_id",
    "person_match_agree",
    "person_match_request",
    "person_match_undo",
    "person_match_withdraw",
    "person_reference_fields",
]
