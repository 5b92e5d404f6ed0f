"""Retention kinds and the disposal engine: what may be disposed of, when, and what disposing of it deletes.

A kind is registered with `register_retention_kind` (casework's closed cases here; upper apps add
theirs from AppConfig.ready): its label, the event its period starts from, the shipped default period
with where that default comes from, a function listing the records past a cutoff, and one disposing of
a record. The city's periods live in `RetentionRule` rows (one per kind, created with the default
after migrate and confirmed by an administrator); the services in `casework.services.retention` run
the daily list, the two-person decision and the tombstones.

Periods are counted as Japanese public offices count them (文書管理規程): from 4月1日 of the fiscal
year after the starting event, so a case closed on 令和2年9月30日 with a five-year rule may be disposed
of from 令和8年4月1日.

Disposing of a record deletes it and every row that hangs on it through a foreign key, in every app
(`purge`, which walks the models' reverse relations, so a model added later is covered without a
list to update), then the household and the persons nothing else refers to any more. Rows that refer
to a record by a string instead of a key (a place's attendance refers to "referral:12") are removed by
the hooks upper apps register with `register_disposal_hook`. The access log is never touched: it
holds ids only and has its own retention (ACCESS_LOG_RETENTION_DAYS), and the application's role
cannot delete from it anyway.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from django.db import models

from core.japanese import fiscal_year


@dataclass(frozen=True)
class Due:
    """A record past its period: id, reference number (no name), starting date, and whose holds stop it."""

    object_id: int
    reference: str
    anchor_on: date
    case_ids: tuple[int, ...] = ()
    person_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class RetentionKind:
    key: str
    label: str
    anchor_label: str
    default_years: int
    default_basis: str
    # Records whose starting date falls before the cutoff, as Due rows (held ones included).
    due_before: Callable[[date], Iterable[Due]]
    # The same check for one record at approval time (None when it is gone or no longer due).
    due_one: Callable[[int, date], Due | None]
    # Delete the record and everything hanging on it; return the persons it concerned (ids, for the log).
    dispose: Callable[[int], Disposed]
    order: int = 100


@dataclass
class Disposed:
    removed: dict[str, int] = field(default_factory=dict)
    person_ids: set[int] = field(default_factory=set)


RETENTION_KINDS: dict[str, RetentionKind] = {}
# fn(collected: {model: {pk}}) -> {label: count}: removes rows that refer to collected rows without a key.
DISPOSAL_HOOKS: list[Callable[[dict[type[models.Model], set[int]]], dict[str, int]]] = []


def register_retention_kind(kind: RetentionKind) -> None:
    RETENTION_KINDS[kind.key] = kind


def register_disposal_hook(fn) -> None:
    if fn not in DISPOSAL_HOOKS:
        DISPOSAL_HOOKS.append(fn)


def kinds() -> list[RetentionKind]:
    return sorted(RETENTION_KINDS.values(), key=lambda k: (k.order, k.key))


def kind_label(key: str) -> str:
    kind = RETENTION_KINDS.get(key)
    return kind.label if kind else key


def cutoff_for(years: int, today: date) -> date:
    """Return the first starting date that is not yet past a period of `years` on `today`.

    The period starts on 4月1日 of the fiscal year after the event and runs `years` years, so a record
    may go from 4月1日 of fiscal year (event's fiscal year + 1 + years).
    """
    return date(fiscal_year(today) - years, 4, 1)


def expires_on(anchor_on: date, years: int) -> date:
    """Return the first day a record whose period started with `anchor_on` may be disposed of."""
    return date(fiscal_year(anchor_on) + 1 + years, 4, 1)


# ---------------------------------------------------------------------------
# The purge: a record and everything that hangs on it
# ---------------------------------------------------------------------------

FOLLOW = (models.CASCADE, models.PROTECT, models.RESTRICT)


def _never_purged() -> set[type[models.Model]]:
    """Models the walk must never enter: the log, accounts and organizations, the tombstones.

    Legal holds may be entered: a held record is never disposed of (checked before), so the only
    holds that hang on a disposed record are lifted ones, and their reasons go with it.
    """
    from django.contrib.auth import get_user_model

    from casework.models import AccessLog, Organization
    from casework.models.retention import DisposalTombstone

    return {AccessLog, get_user_model(), Organization, DisposalTombstone}


def reverse_relations(model: type[models.Model]):
    """Every foreign key pointing at `model`, hidden ones (related_name="+") included."""
    return [
        rel
        for rel in model._meta._get_fields(forward=False, reverse=True, include_hidden=True)
        if (rel.one_to_many or rel.one_to_one) and rel.field.concrete
    ]


def collect(model: type[models.Model], pks: Iterable[int]) -> dict[type[models.Model], set[int]]:
    """Return every row that hangs on these rows through CASCADE, PROTECT or RESTRICT keys, them included."""
    collected: dict[type[models.Model], set[int]] = defaultdict(set)
    forbidden = _never_purged()
    pending = [(model, set(pks))]
    while pending:
        current, ids = pending.pop()
        ids = ids - collected[current]
        if not ids:
            continue
        if current in forbidden:
            raise RuntimeError(f"disposal would delete {current._meta.label}")
        collected[current] |= ids
        for rel in reverse_relations(current):
            if rel.on_delete not in FOLLOW:
                continue
            child = rel.related_model
            child_ids = set(child._base_manager.filter(**{f"{rel.field.name}__in": ids}).values_list("pk", flat=True))
            if child_ids:
                pending.append((child, child_ids))
    return {m: ids for m, ids in collected.items() if ids}


def _depth_order(collected: dict[type[models.Model], set[int]]) -> list[type[models.Model]]:
    """Order the collected models so that a model comes before every model it points at."""
    ordered: list[type[models.Model]] = []
    seen: set[type[models.Model]] = set()

    def visit(m):
        if m in seen:
            return
        seen.add(m)
        for rel in reverse_relations(m):
            if rel.related_model in collected:
                visit(rel.related_model)
        ordered.append(m)

    for m in collected:
        visit(m)
    return ordered


def delete_collected(collected: dict[type[models.Model], set[int]], removed: dict[str, int]) -> None:
    """Delete collected rows, referrers first; count them per model under its Japanese name."""
    for hook in DISPOSAL_HOOKS:
        for label, count in hook(collected).items():
            if count:
                removed[label] = removed.get(label, 0) + count
    _forget_migration_provenance(collected)
    for m in _depth_order(collected):
        ids = collected[m]
        deleted, _per_model = m._base_manager.filter(pk__in=ids).delete()
        if ids and not m._meta.auto_created:
            label = str(m._meta.verbose_name)
            removed[label] = removed.get(label, 0) + len(ids)


def _forget_migration_provenance(collected) -> None:
    """Remove the migration's provenance rows of deleted records (they keep the old system's keys and names)."""
    from casework.models import Case, Consent, ContactRecord, Household, MigrationRecord, Person

    by_kind = {
        MigrationRecord.Kind.CASE: Case,
        MigrationRecord.Kind.HOUSEHOLD: Household,
        MigrationRecord.Kind.PERSON: Person,
        MigrationRecord.Kind.CONSENT: Consent,
        MigrationRecord.Kind.CONTACT: ContactRecord,
    }
    for kind, model in by_kind.items():
        ids = collected.get(model)
        if ids:
            MigrationRecord.objects.filter(kind=kind, object_id__in=ids).delete()


def still_referred(model: type[models.Model], pk: int) -> bool:
    """Whether any row still points at this one through a key that would stop or follow its deletion."""
    from casework.models.retention import LegalHold

    for rel in reverse_relations(model):
        if rel.on_delete not in FOLLOW:
            continue
        rows = rel.related_model._base_manager.filter(**{rel.field.name: pk})
        if rel.related_model is LegalHold:
            # A lifted hold keeps nothing; a hold in force keeps the person.
            rows = rows.filter(released_at__isnull=True)
        if rows.exists():
            return True
    return False


# ---------------------------------------------------------------------------
# casework's kind: closed and suspended cases
# ---------------------------------------------------------------------------


def _case_due(case) -> Due:
    """A case is held by a hold on it, on one of its subjects, or on a member of its household."""
    persons = {row.person_id for row in case.subject_rows.all()}
    persons |= {row.person_id for row in case.household.members.all()}
    return Due(
        object_id=case.pk,
        reference=case.number,
        anchor_on=case.closed_on,
        case_ids=(case.pk,),
        person_ids=tuple(sorted(persons)),
    )


def _closed_cases():
    from casework.models import Case, CaseState

    return Case.objects.filter(state__in=[CaseState.CLOSED, CaseState.SUSPENDED], closed_on__isnull=False)


def closed_cases_before(cutoff: date) -> Iterable[Due]:
    rows = (
        _closed_cases()
        .filter(closed_on__lt=cutoff)
        .prefetch_related("subject_rows", "household__members")
        .order_by("closed_on", "pk")
    )
    return [_case_due(case) for case in rows]


def closed_case_due(object_id: int, cutoff: date) -> Due | None:
    case = (
        _closed_cases()
        .filter(pk=object_id, closed_on__lt=cutoff)
        .prefetch_related("subject_rows", "household__members")
        .first()
    )
    return _case_due(case) if case else None


def dispose_case(object_id: int) -> Disposed:
    """Delete a case with everything on it, then its household and persons once nothing else refers to them."""
    from casework.models import Case, CaseSubject, ContactRecord, Household, HouseholdMember, Person

    case = Case.objects.get(pk=object_id)
    out = Disposed()
    persons = set(CaseSubject.objects.filter(case=case).values_list("person_id", flat=True))
    persons |= set(ContactRecord.objects.filter(case=case, person__isnull=False).values_list("person_id", flat=True))
    household_id = case.household_id
    delete_collected(collect(Case, [case.pk]), out.removed)
    if not Case.objects.filter(household_id=household_id).exists():
        persons |= set(HouseholdMember.objects.filter(household_id=household_id).values_list("person_id", flat=True))
        delete_collected(collect(Household, [household_id]), out.removed)
    out.person_ids = set(persons)
    gone = [pk for pk in sorted(persons) if not still_referred(Person, pk)]
    if gone:
        delete_collected(collect(Person, gone), out.removed)
    return out


CLOSED_CASE = RetentionKind(
    key="closed_case",
    label="終結・中断したケース（記録一式）",
    anchor_label="終結・中断日",
    default_years=5,
    default_basis=(
        "初期値（要確認）: 障害者総合支援法の指定相談支援の運営基準が支援の完結から5年の保存を求めており、"
        "福祉の相談記録を5年保存とする市町村の文書管理規程が多いことによる。"
        "アセスメント・プラン・支援経過記録・同意・紹介・会議の議題はケースとともに廃棄する。"
    ),
    due_before=closed_cases_before,
    due_one=closed_case_due,
    dispose=dispose_case,
    order=10,
)
register_retention_kind(CLOSED_CASE)
