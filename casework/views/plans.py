"""Assessments, support plans with their roles and review dates, and contact records."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from casework.access import (
    get_case_record_for_user,
)
from casework.assessment import checklist_rows
from casework.disclosure import Purpose, case_basis
from casework.forms import (
    AssessmentForm,
    ContactForm,
    NextReviewForm,
    PlanApproveForm,
    PlanForm,
    PlanRoleForm,
)
from casework.models import (
    AccessLog,
    ApprovalKind,
    ApprovalState,
    Assessment,
    Organization,
    PlanRole,
    SupportPlan,
)
from casework.services.approvals import approval_required, plan_approve_or_request
from casework.services.plans import (
    PLAN_FIELDS,
    assessment_record,
    contact_record_create,
    plan_create,
    plan_propose,
    plan_role_add,
    plan_role_remove,
    plan_set_next_review,
    plan_update,
)
from casework.viewers import viewer_for
from casework.views.common import case_people, case_view, change_case, form_page


@case_view
@require_http_methods(["GET", "POST"])
def assessment_create(request, pk: int):
    """Record an intake assessment."""
    case = change_case(request, pk)
    form = AssessmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        assessment_record(
            case=case,
            checklist=form.checklist(),
            narrative=form.cleaned_data["narrative"],
            assessed_on=form.cleaned_data["assessed_on"],
            by=request.user,
        )
        messages.success(request, _("アセスメントを記録しました。"))
        return redirect(case)
    return form_page(request, case, "casework/assessment_form.html", form)


@case_view
@require_http_methods(["GET"])
def assessment_detail(request, pk: int, assessment_pk: int):
    """Show one assessment."""
    case, assessment = get_case_record_for_user(request, pk, Assessment, assessment_pk)
    return render(
        request,
        "casework/assessment_detail.html",
        {
            "case": case,
            "assessment": assessment,
            "rows": checklist_rows(assessment.checklist, assessment.schema_version),
        },
    )


@case_view
@require_http_methods(["GET", "POST"])
def plan_create_view(request, pk: int):
    """Draft a new version of the support plan."""
    case = change_case(request, pk)
    current = case.plans.order_by("-version").first()
    initial = {}
    if current:
        initial = {
            "goals": current.goals,
            "includes_participation_support": current.includes_participation_support,
            "includes_outreach": current.includes_outreach,
        }
    form = PlanForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        roles = []
        if current:
            roles = [
                {
                    "organization": r.organization,
                    "role": r.role,
                    "actions": r.actions,
                    "period_start": r.period_start,
                    "period_end": r.period_end,
                }
                for r in current.roles.all()
            ]
        plan = plan_create(case=case, by=request.user, roles=roles, **form.cleaned_data)
        messages.success(request, _("支援プラン第%(v)s版を作成しました。") % {"v": plan.version})
        return redirect("casework:plan_detail", pk=case.pk, plan_pk=plan.pk)
    return form_page(request, case, "casework/plan_form.html", form)


@case_view
@require_http_methods(["GET", "POST"])
def plan_detail(request, pk: int, plan_pk: int):
    """Show a plan; while it is a draft, edit it and its roles here."""
    editing = request.method == "POST"
    action = AccessLog.Action.CHANGE if editing else AccessLog.Action.VIEW
    case, plan = get_case_record_for_user(request, pk, SupportPlan, plan_pk, action=action, for_change=editing)
    pending_approval = plan.approval_requests.filter(state=ApprovalState.PENDING).select_related("requested_by").first()
    editable = (
        case.access.can_change
        and plan.status in {SupportPlan.Status.DRAFT, SupportPlan.Status.PROPOSED}
        and pending_approval is None
    )
    plan_form = PlanForm(
        request.POST if request.POST.get("form") == "plan" else None,
        initial={f: getattr(plan, f) for f in PLAN_FIELDS},
    )
    role_form = PlanRoleForm(request.POST if request.POST.get("form") == "role" else None)
    approve_form = PlanApproveForm(request.POST if request.POST.get("form") == "approve" else None)
    can_set_review = case.access.can_change and plan.status == SupportPlan.Status.APPROVED and case.is_open
    review_form = NextReviewForm(
        request.POST if request.POST.get("form") == "next_review" else None,
        initial={"next_review_on": plan.next_review_on},
    )
    if editing and request.POST.get("form") == "next_review":
        if not can_set_review:
            messages.error(request, _("次回見直し日は、支援中のケースの承認済みプランにだけ設定できます。"))
            return redirect("casework:plan_detail", pk=case.pk, plan_pk=plan.pk)
        if _set_next_review(request, case, review_form):
            return redirect("casework:plan_detail", pk=case.pk, plan_pk=plan.pk)
    elif editing:
        if pending_approval is not None:
            messages.error(request, _("決裁待ちのプランは変更できません。差し戻されてから変更してください。"))
            return redirect("casework:plan_detail", pk=case.pk, plan_pk=plan.pk)
        if not editable and request.POST.get("form") != "approve":
            messages.error(request, _("承認済み・終了したプランは変更できません。"))
            return redirect("casework:plan_detail", pk=case.pk, plan_pk=plan.pk)
        try:
            done = _plan_post(request, plan, plan_form, role_form, approve_form)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            done = True
        if done:
            return redirect("casework:plan_detail", pk=case.pk, plan_pk=plan.pk)
    return render(
        request,
        "casework/plan_detail.html",
        {
            "case": case,
            "plan": plan,
            "roles": list(plan.roles.select_related("organization")),
            "editable": editable,
            "plan_form": plan_form,
            "role_form": role_form,
            "approve_form": approve_form,
            "can_set_review": can_set_review,
            "review_form": review_form,
            "lead_change": case_basis(viewer_for(request), case, Purpose.LEAD_CHANGE) is not None,
            "pending_approval": pending_approval,
            "approval_on": approval_required(ApprovalKind.PLAN),
        },
    )


def _set_next_review(request, case, form) -> bool:
    """Set the approved plan's next review date from the plan page; return True when it was saved."""
    if not form.is_valid():
        return False
    try:
        plan_set_next_review(case=case, next_review_on=form.cleaned_data["next_review_on"], by=request.user)
    except ValidationError as exc:
        form.add_error(None, " ".join(exc.messages))
        return False
    messages.success(request, _("次回見直し日を保存しました。"))
    return True


def _plan_post(request, plan, plan_form, role_form, approve_form) -> bool:
    """Apply one of the plan page's forms; return True when it succeeded."""
    which = request.POST.get("form")
    by = request.user
    if which == "plan" and plan_form.is_valid():
        plan_update(plan=plan, by=by, **plan_form.cleaned_data)
        messages.success(request, _("プランを保存しました。"))
        return True
    if which == "role" and role_form.is_valid():
        plan_role_add(plan=plan, by=by, **role_form.cleaned_data)
        messages.success(request, _("役割分担を追加しました。"))
        return True
    if which == "role_remove":
        role = PlanRole.objects.filter(plan=plan, pk=request.POST.get("role") or 0).first()
        if role is None:
            raise Http404
        plan_role_remove(role=role, by=by)
        messages.success(request, _("役割分担を削除しました。"))
        return True
    if which == "propose":
        plan_propose(plan=plan, by=by)
        messages.success(request, _("プランを会議に提案しました。議長の画面の「議題候補」に表示されます。"))
        return True
    if which == "approve" and approve_form.is_valid():
        outcome = plan_approve_or_request(
            plan=plan, by=by, decided_by_label=approve_form.cleaned_data["decided_by_label"]
        )
        if outcome.waiting:
            messages.success(
                request,
                _("プランの決裁を申請しました。主担当機関のスーパーバイザーが承認するまで、プランは承認されません。"),
            )
        else:
            messages.success(request, _("プランを承認しました。"))
        return True
    return False


@case_view
@require_http_methods(["GET", "POST"])
def contact_create(request, pk: int):
    """Record a contact, visit or failed attempt."""
    case = change_case(request, pk)
    people = case_people(case)
    form = ContactForm(request.POST or None, people=people)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        person = next((p for p in people if p.pk == data["person"]), None)
        contact_record_create(
            case=case,
            occurred_at=form.occurred_at(),
            kind=data["kind"],
            summary=data["summary"],
            person=person,
            is_outreach=data["is_outreach"],
            sensitive=data["sensitive"],
            organization=Organization.objects.filter(pk=case.access.organization_id).first(),
            by=request.user,
        )
        messages.success(request, _("支援経過を記録しました。"))
        return redirect(case)
    return form_page(request, case, "casework/contact_form.html", form)
