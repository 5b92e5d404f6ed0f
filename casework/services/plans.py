"""Assessments, support plans and their roles, and contact records."""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from casework.access import case_access
from casework.assessment import CURRENT_VERSION, validate_checklist
from casework.models import (
    AccessLog,
    ApprovalRequest,
    ApprovalState,
    Assessment,
    Case,
    CaseState,
    ContactRecord,
    Organization,
    Person,
    PlanRole,
    SupportPlan,
)
from casework.services.cases import case_transition
from casework.services.common import case_person_ids, decision_basis, log_change, require_lead

# ---------------------------------------------------------------------------
# Assessments, plans, contact records
# ---------------------------------------------------------------------------


@transaction.atomic
def assessment_record(
    *,
    case: Case,
    checklist: dict,
    narrative: str,
    assessed_on: date,
    by,
    schema_version: int = CURRENT_VERSION,
) -> Assessment:
    """Record an intake assessment against a versioned checklist schema."""
    validate_checklist(checklist, schema_version)
    assessment = Assessment(
        case=case,
        schema_version=schema_version,
        checklist=checklist,
        narrative=narrative,
        assessed_on=assessed_on,
        by=by,
    )
    assessment.full_clean()
    assessment.save()
    log_change(by, action=AccessLog.Action.CREATE, obj=assessment, person_ids=case_person_ids(case), case=case)
    return assessment


PLAN_FIELDS = {
    "goals",
    "period_start",
    "period_end",
    "next_review_on",
    "includes_participation_support",
    "includes_outreach",
}


@transaction.atomic
def plan_create(*, case: Case, goals: str, by, roles: list[dict] = (), **fields) -> SupportPlan:
    """Draft a new version of the case's support plan, optionally with roles per organization."""
    unknown = set(fields) - PLAN_FIELDS
    if unknown:
        raise TypeError(f"unknown plan fields: {sorted(unknown)}")
    Case.objects.select_for_update().filter(pk=case.pk).first()
    last = case.plans.order_by("-version").values_list("version", flat=True).first() or 0
    plan = SupportPlan(case=case, version=last + 1, goals=goals, created_by=by, **fields)
    plan.full_clean()
    plan.save()
    for role in roles:
        PlanRole.objects.create(plan=plan, **role)
    log_change(by, action=AccessLog.Action.CREATE, obj=plan, person_ids=case_person_ids(case), case=case)
    return plan


def _editable(plan: SupportPlan) -> None:
    if plan.status not in {SupportPlan.Status.DRAFT, SupportPlan.Status.PROPOSED}:
        raise ValidationError(_("承認済み・終了したプランは変更できません。新しい版を作成してください。"))
    # A supervisor approves exactly what was asked: the plan stays as it is while its 決裁 is pending.
    if ApprovalRequest.objects.filter(plan=plan, state=ApprovalState.PENDING).exists():
        raise ValidationError(_("決裁待ちのプランは変更できません。差し戻されてから変更してください。"))


@transaction.atomic()
def plan_update(*, plan: SupportPlan, by, **fields) -> SupportPlan:
    """Change a draft or proposed plan."""
    unknown = set(fields) - PLAN_FIELDS
    if unknown:
        raise TypeError(f"unknown plan fields: {sorted(unknown)}")
    _editable(plan)
    for name, value in fields.items():
        setattr(plan, name, value)
    plan.full_clean()
    plan.save()
    log_change(by, action=AccessLog.Action.CHANGE, obj=plan, person_ids=case_person_ids(plan.case), case=plan.case)
    return plan


@transaction.atomic
def plan_role_add(
    *,
    plan: SupportPlan,
    organization: Organization,
    role: str,
    by,
    actions: str = "",
    period_start: date | None = None,
    period_end: date | None = None,
) -> PlanRole:
    """Give an organization a role in a draft or proposed plan."""
    _editable(plan)
    row = PlanRole(
        plan=plan,
        organization=organization,
        role=role,
        actions=actions,
        period_start=period_start,
        period_end=period_end,
    )
    row.full_clean()
    row.save()
    log_change(by, action=AccessLog.Action.CHANGE, obj=plan, person_ids=[], case=plan.case)
    return row


@transaction.atomic()
def plan_role_remove(*, role: PlanRole, by) -> None:
    """Remove a role from a draft or proposed plan."""
    _editable(role.plan)
    log_change(by, action=AccessLog.Action.CHANGE, obj=role.plan, person_ids=[], case=role.plan.case)
    role.delete()


@transaction.atomic
def plan_propose(*, plan: SupportPlan, by) -> SupportPlan:
    """Mark a draft plan as proposed to the case conference."""
    if plan.status != SupportPlan.Status.DRAFT:
        raise ValidationError(_("作成中のプランだけを提案できます。"))
    plan.status = SupportPlan.Status.PROPOSED
    plan.save(update_fields=["status"])
    log_change(by, action=AccessLog.Action.CHANGE, obj=plan, person_ids=[], case=plan.case)
    return plan


@transaction.atomic
def plan_approve(
    *,
    plan: SupportPlan,
    by,
    decided_by_label: str = "",
    decided_by_ref: str = "",
    approved_on: date | None = None,
    decided_in=None,
    approval=None,
) -> SupportPlan:
    """Approve a plan: supersede the previous one and, from planning, move the case to in support.

    The lead organization approves (team members propose); a meeting passes its decision's basis (decided_in);
    a supervisor's 決裁 passes itself (approval, casework.services.approvals), kept on the case's history.
    """
    case = Case.objects.select_for_update().select_related("lead_organization").get(pk=plan.case_id)
    decided_in = decision_basis(by, case, decided_in)
    require_lead(by, case, decision=decided_in)
    plan = SupportPlan.objects.select_for_update().get(pk=plan.pk)
    if plan.status not in {SupportPlan.Status.DRAFT, SupportPlan.Status.PROPOSED}:
        raise ValidationError(_("このプランはすでに承認済みか終了しています。"))
    SupportPlan.objects.filter(case=case, status=SupportPlan.Status.APPROVED).update(
        status=SupportPlan.Status.SUPERSEDED
    )
    plan.status = SupportPlan.Status.APPROVED
    plan.approved_on = approved_on or timezone.localdate()
    plan.approved_by_label = decided_by_label
    plan.approved_by_ref = decided_by_ref
    plan.save()
    Case.objects.filter(pk=case.pk).update(next_review_on=plan.next_review_on, version=case.version + 1)
    log_change(
        by,
        action=AccessLog.Action.CHANGE,
        obj=plan,
        person_ids=case_person_ids(case),
        case=case,
        decided_in=decided_in,
    )
    if case.state == CaseState.PLANNING:
        case.version += 1
        case_transition(
            case=case,
            to_state=CaseState.IN_SUPPORT,
            by=by,
            reason=_("支援プラン第%(v)s版の承認") % {"v": plan.version},
            decided_by_label=decided_by_label,
            decided_by_ref=decided_by_ref,
            decided_in=decided_in,
            approval=approval,
        )
    return plan


@transaction.atomic
def plan_set_next_review(*, case: Case, next_review_on: date, by, decided_in=None) -> SupportPlan | None:
    """Set the next review date on the case and its approved plan (if any); returns that plan."""
    if next_review_on is None:
        raise ValidationError({"next_review_on": _("次回見直し日を入力してください。")})
    case = Case.objects.select_for_update().get(pk=case.pk)
    decided_in = decision_basis(by, case, decided_in)
    if case.state in {CaseState.CLOSED, CaseState.SUSPENDED}:
        raise ValidationError(_("終結・中断中のケースには次回見直し日を設定できません。"))
    if case.opened_on and next_review_on < case.opened_on:
        raise ValidationError({"next_review_on": _("次回見直し日は受付日より後の日付にしてください。")})
    plan = SupportPlan.objects.select_for_update().filter(case=case, status=SupportPlan.Status.APPROVED).first()
    if plan is not None:
        plan.next_review_on = next_review_on
        plan.save(update_fields=["next_review_on"])
    Case.objects.filter(pk=case.pk).update(next_review_on=next_review_on, version=case.version + 1)
    log_change(by, action=AccessLog.Action.CHANGE, obj=plan or case, person_ids=[], case=case, decided_in=decided_in)
    return plan


@transaction.atomic
def contact_record_create(
    *,
    case: Case,
    occurred_at: datetime,
    kind: str,
    summary: str,
    by,
    organization: Organization | None = None,
    person: Person | None = None,
    is_outreach: bool = False,
    sensitive: bool = False,
) -> ContactRecord:
    """Record a contact, visit or failed attempt (不在・拒否 count as outreach when marked)."""
    if organization is None:
        access = case_access(by, case)
        org_id = access.organization_id if access and access.organization_id else case.lead_organization_id
        organization = Organization.objects.get(pk=org_id)
    record = ContactRecord(
        case=case,
        person=person,
        occurred_at=occurred_at,
        kind=kind,
        is_outreach=is_outreach,
        summary=summary,
        sensitive=sensitive,
        recorded_by=by,
        organization=organization,
    )
    record.full_clean()
    record.save()
    person_ids = [person.pk] if person else case_person_ids(case)
    log_change(by, action=AccessLog.Action.CREATE, obj=record, person_ids=person_ids, case=case)
    return record
