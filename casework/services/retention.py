"""Retention and disposal: the city's rules, legal holds, the daily list and the two-person disposal decision."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from casework import audit
from casework.models import AccessLog, Case, CaseSubject, Person
from casework.models.retention import (
    DisposalDecision,
    DisposalItem,
    DisposalTombstone,
    LegalHold,
    RetentionCandidate,
    RetentionRule,
    RetentionRun,
)
from casework.retention import RETENTION_KINDS, Due, cutoff_for, expires_on, kinds
from casework.services.memberships import is_active_administrator
from core.forms import has_bad_text

MAX_ITEMS_PER_DECISION = 500


def _require_administrator(by) -> None:
    if not is_active_administrator(by):
        raise PermissionDenied(_("システム管理者だけが行えます。"))


def _clean_reason(value: str, *, field: str, label: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: _("%(l)sを入力してください。") % {"l": label}})
    if len(value) > 300 or has_bad_text(value):
        raise ValidationError({field: _("%(l)sは使える文字で300文字以内にしてください。") % {"l": label}})
    return value


# ---------------------------------------------------------------------------
# Rules
# ---------------------------------------------------------------------------


def retention_rules_ensure() -> list[RetentionRule]:
    """Create the missing rule of every registered kind with its shipped default (unconfirmed); return all."""
    existing = {rule.kind: rule for rule in RetentionRule.objects.all()}
    for kind in kinds():
        if kind.key not in existing:
            rule, _created = RetentionRule.objects.get_or_create(
                kind=kind.key, defaults={"years": kind.default_years, "basis": kind.default_basis}
            )
            existing[kind.key] = rule
    return [existing[k.key] for k in kinds()]


def ensure_rules_after_migrate(**kwargs) -> None:
    retention_rules_ensure()


@transaction.atomic
def retention_rule_update(*, rule: RetentionRule, years: int, basis: str, is_active: bool, by) -> RetentionRule:
    """Set a kind's period and its basis as the city decided; saving it confirms it."""
    _require_administrator(by)
    if not isinstance(years, int) or not 1 <= years <= 100:
        raise ValidationError({"years": _("保存期間は1年から100年の間で入力してください。")})
    basis = _clean_reason(basis, field="basis", label=_("根拠"))
    locked = RetentionRule.objects.select_for_update().get(pk=rule.pk)
    locked.years = years
    locked.basis = basis
    locked.is_active = bool(is_active)
    locked.confirmed_at = timezone.now()
    locked.updated_by = by
    locked.updated_at = timezone.now()
    locked.save()
    audit.log_access(
        actor=by,
        action=AccessLog.Action.CHANGE,
        object_type="retentionrule",
        object_id=locked.pk,
        reason=f"保存期間の規則 {locked.kind}: {years}年{'（廃棄の対象）' if is_active else '（廃棄しない）'}",
    )
    return locked


# ---------------------------------------------------------------------------
# Legal holds
# ---------------------------------------------------------------------------


def _hold_person_ids(hold: LegalHold) -> list[int]:
    if hold.person_id:
        return [hold.person_id]
    return list(CaseSubject.objects.filter(case_id=hold.case_id).values_list("person_id", flat=True))


@transaction.atomic
def legal_hold_set(*, case_number: str = "", person_id: int | None = None, reason: str, by) -> LegalHold:
    """Stop disposal of a case (by its number) or of every record of a person (by id); refuse an unknown one."""
    _require_administrator(by)
    reason = _clean_reason(reason, field="reason", label=_("理由"))
    case_number = (case_number or "").strip()
    if bool(case_number) == (person_id is not None):
        raise ValidationError({"case_number": _("ケース番号か本人IDのどちらか一方を入力してください。")})
    target: dict = {}
    if case_number:
        case = Case.objects.filter(number=case_number).first()
        if case is None:
            raise ValidationError({"case_number": _("このケース番号のケースはありません。")})
        target["case"] = case
    else:
        person = Person.objects.filter(pk=person_id).first()
        if person is None:
            raise ValidationError({"person_id": _("この本人IDの記録はありません。")})
        target["person"] = person
    if LegalHold.objects.filter(released_at__isnull=True, **target).exists():
        raise ValidationError({None: _("すでに廃棄を停止しています。")})
    hold = LegalHold.objects.create(reason=reason, set_by=by, **target)
    audit.log_access(
        actor=by,
        action=AccessLog.Action.CHANGE,
        object_type="legalhold",
        object_id=hold.pk,
        person_ids=_hold_person_ids(hold),
        reason="廃棄の停止（リーガルホールド）の設定",
    )
    return hold


@transaction.atomic
def legal_hold_release(*, hold: LegalHold, reason: str, by) -> LegalHold:
    """Lift a hold with a reason; the records are listed again at the next run when past their period."""
    _require_administrator(by)
    reason = _clean_reason(reason, field="release_reason", label=_("解除の理由"))
    locked = LegalHold.objects.select_for_update().get(pk=hold.pk)
    if locked.released_at is not None:
        raise ValidationError({None: _("この停止はすでに解除されています。")})
    locked.released_at = timezone.now()
    locked.released_by = by
    locked.release_reason = reason
    locked.save(update_fields=["released_at", "released_by", "release_reason"])
    audit.log_access(
        actor=by,
        action=AccessLog.Action.CHANGE,
        object_type="legalhold",
        object_id=locked.pk,
        person_ids=_hold_person_ids(locked),
        reason="廃棄の停止（リーガルホールド）の解除",
    )
    return locked


def held_case_and_person_ids() -> tuple[set[int], set[int]]:
    """Return the cases and persons under an active hold."""
    rows = LegalHold.objects.filter(released_at__isnull=True).values_list("case_id", "person_id")
    return {c for c, _p in rows if c}, {p for _c, p in rows if p}


def is_held(due: Due, held: tuple[set[int], set[int]] | None = None) -> bool:
    cases, persons = held if held is not None else held_case_and_person_ids()
    return bool(cases.intersection(due.case_ids) or persons.intersection(due.person_ids))


# ---------------------------------------------------------------------------
# The daily list
# ---------------------------------------------------------------------------


def retention_run(day: date) -> RetentionRun:
    """List the records past their period on `day` (held ones left out); running it again that day replaces the list."""
    rules = {rule.kind: rule for rule in retention_rules_ensure()}
    held = held_case_and_person_ids()
    with transaction.atomic():
        run, _created = RetentionRun.objects.select_for_update().get_or_create(day=day)
        run.candidates.all().delete()
        counts: dict[str, int] = {}
        held_count = 0
        rows = []
        for kind in kinds():
            rule = rules[kind.key]
            if not rule.is_active:
                continue
            found = 0
            for due in kind.due_before(cutoff_for(rule.years, day)):
                if is_held(due, held):
                    held_count += 1
                    continue
                found += 1
                rows.append(
                    RetentionCandidate(
                        run=run,
                        kind=kind.key,
                        object_id=due.object_id,
                        reference=due.reference[:60],
                        anchor_on=due.anchor_on,
                        due_on=expires_on(due.anchor_on, rule.years),
                        rule=rule,
                    )
                )
            counts[kind.key] = found
        RetentionCandidate.objects.bulk_create(rows, batch_size=500)
        counts["held"] = held_count
        run.counts = counts
        run.finished_at = timezone.now()
        run.save(update_fields=["counts", "finished_at"])
    return run


def retention_daily(day: date) -> str:
    """The daily job: list what is due for disposal today (idempotent for its day)."""
    run = retention_run(day)
    listed = sum(v for k, v in run.counts.items() if k != "held")
    return f"廃棄対象 {listed} 件（停止中 {run.counts.get('held', 0)} 件は除外）"


# ---------------------------------------------------------------------------
# The two-person decision
# ---------------------------------------------------------------------------


def _log_decision(decision: DisposalDecision, *, by, action: str, reason: str, person_ids=(), outcome=None) -> None:
    audit.log_access(
        actor=by,
        action=action,
        object_type="disposaldecision",
        object_id=decision.pk,
        person_ids=person_ids,
        reason=reason,
        outcome=outcome or AccessLog.Outcome.ALLOWED,
    )


@transaction.atomic
def disposal_propose(*, candidates: list[RetentionCandidate], reason: str, by) -> DisposalDecision:
    """Propose disposing of records from today's list; another administrator must approve it."""
    _require_administrator(by)
    reason = _clean_reason(reason, field="reason", label=_("廃棄の理由"))
    if not candidates:
        raise ValidationError({"candidates": _("廃棄する記録を一つ以上選んでください。")})
    if len(candidates) > MAX_ITEMS_PER_DECISION:
        raise ValidationError(
            {"candidates": _("一度に起案できるのは%(n)s件までです。") % {"n": MAX_ITEMS_PER_DECISION}}
        )
    unconfirmed = sorted({c.rule.kind for c in candidates if c.rule.confirmed_at is None})
    if unconfirmed:
        raise ValidationError(
            {"candidates": _("市が保存期間を確認していない種類があります。先に規則を確認してください。")}
        )
    decision = DisposalDecision.objects.create(reason=reason, proposed_by=by)
    try:
        with transaction.atomic():
            DisposalItem.objects.bulk_create(
                [
                    DisposalItem(
                        decision=decision,
                        kind=c.kind,
                        object_id=c.object_id,
                        reference=c.reference,
                        anchor_on=c.anchor_on,
                        rule=c.rule,
                    )
                    for c in candidates
                ]
            )
    except IntegrityError:
        raise ValidationError({"candidates": _("承認待ちの廃棄の決定にすでに入っている記録があります。")}) from None
    _log_decision(
        decision,
        by=by,
        action=AccessLog.Action.CREATE,
        reason=f"廃棄の起案 {len(candidates)}件",
    )
    return decision


def _refuse(decision: DisposalDecision, by, message: str) -> None:
    """Record a refused approval in its own transaction, so the refusal stays when the caller rolls back."""
    with transaction.atomic():
        _log_decision(
            decision,
            by=by,
            action=AccessLog.Action.DISPOSE,
            reason="廃棄の承認（拒否）",
            outcome=AccessLog.Outcome.DENIED,
        )
    raise ValidationError(message)


def _locked_proposal(decision: DisposalDecision) -> DisposalDecision:
    locked = DisposalDecision.objects.select_for_update().get(pk=decision.pk)
    if locked.status != DisposalDecision.Status.PROPOSED:
        raise ValidationError(_("この廃棄の決定はすでに処理されています。"))
    return locked


def disposal_approve(*, decision: DisposalDecision, by, note: str = "") -> DisposalDecision:
    """Approve another administrator's proposal and carry it out: each record still due and not held is deleted.

    A record no longer due (reopened, the rule changed) or now held is kept and marked 廃棄せず with why.
    Each disposed record leaves a tombstone; the access-log rows about it stay.
    """
    _require_administrator(by)
    if decision.proposed_by_id == by.pk:
        _refuse(decision, by, _("自分が起案した廃棄は承認できません。別のシステム管理者が承認してください。"))
    with transaction.atomic():
        locked = _locked_proposal(decision)
        today = timezone.localdate()
        held = held_case_and_person_ids()
        person_ids: set[int] = set()
        disposed = 0
        for item in locked.items.select_related("rule").select_for_update(of=("self",)):
            kind = RETENTION_KINDS.get(item.kind)
            rule = RetentionRule.objects.get(pk=item.rule_id)
            due = kind.due_one(item.object_id, cutoff_for(rule.years, today)) if kind and rule.is_active else None
            if due is None:
                item.outcome, item.outcome_note = DisposalItem.Outcome.SKIPPED, _("保存期間内・対象外になりました")
            elif is_held(due, held):
                item.outcome, item.outcome_note = DisposalItem.Outcome.SKIPPED, _("廃棄の停止中")
            else:
                result = kind.dispose(item.object_id)
                person_ids |= result.person_ids
                DisposalTombstone.objects.create(
                    kind=item.kind,
                    object_id=item.object_id,
                    reference=item.reference,
                    anchor_on=due.anchor_on,
                    rule=rule,
                    rule_years=rule.years,
                    decision=locked,
                    removed=result.removed,
                )
                item.outcome, item.outcome_note = DisposalItem.Outcome.DISPOSED, ""
                disposed += 1
            item.save(update_fields=["outcome", "outcome_note"])
        locked.status = DisposalDecision.Status.APPROVED
        locked.decided_by = by
        locked.decided_at = timezone.now()
        locked.decision_note = (note or "").strip()[:300]
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        _log_decision(
            locked,
            by=by,
            action=AccessLog.Action.DISPOSE,
            reason=f"廃棄の承認・実施 {disposed}件（起案者 {locked.proposed_by_id}）",
            person_ids=person_ids,
        )
        # No list offers what was just disposed of.
        for item in locked.items.filter(outcome=DisposalItem.Outcome.DISPOSED):
            RetentionCandidate.objects.filter(kind=item.kind, object_id=item.object_id).delete()
    decision.refresh_from_db()
    return decision


@transaction.atomic
def disposal_reject(*, decision: DisposalDecision, by, note: str = "") -> DisposalDecision:
    """Reject a proposal (or withdraw one's own); nothing is deleted and its records may be proposed again."""
    _require_administrator(by)
    locked = _locked_proposal(decision)
    locked.status = DisposalDecision.Status.REJECTED
    locked.decided_by = by
    locked.decided_at = timezone.now()
    locked.decision_note = (note or "").strip()[:300]
    locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    locked.items.update(outcome=DisposalItem.Outcome.SKIPPED, outcome_note=_("却下・取下げ"))
    _log_decision(locked, by=by, action=AccessLog.Action.CHANGE, reason="廃棄の起案の却下・取下げ")
    return locked
