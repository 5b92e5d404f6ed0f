"""Retention and disposal (system administrators only): rules, today's list, two-person decisions, holds, the ledger."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from casework.access import log_legal_hold_list, log_retention_list, object_pk
from casework.forms import (
    DisposalDecideForm,
    DisposalProposeForm,
    LegalHoldForm,
    LegalHoldReleaseForm,
    RetentionRuleForm,
)
from casework.models import (
    DisposalDecision,
    DisposalTombstone,
    LegalHold,
    RetentionRule,
    RetentionRun,
)
from casework.retention import RETENTION_KINDS, kind_label
from casework.selectors import personal_info_file_entry
from casework.services.retention import (
    disposal_approve,
    disposal_propose,
    disposal_reject,
    legal_hold_release,
    legal_hold_set,
    retention_rule_update,
    retention_rules_ensure,
    retention_run,
)
from casework.viewers import viewer_for
from core.spreadsheets import encode_csv


def _require_administrator(request) -> None:
    if not viewer_for(request).is_administrator:
        raise Http404


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, problems in error.message_dict.items():
            form.add_error(field if field in form.fields else None, problems)
    else:
        form.add_error(None, error.messages)


def _labelled(rows):
    for row in rows:
        row.kind_label = kind_label(row.kind)
    return rows


@require_http_methods(["GET", "POST"])
def retention_home(request):
    """Rules, today's list with the proposal form, decisions waiting for a second administrator."""
    _require_administrator(request)
    rules = retention_rules_ensure()
    for rule in rules:
        rule.kind_label = kind_label(rule.kind)
        rule.anchor_label = RETENTION_KINDS[rule.kind].anchor_label if rule.kind in RETENTION_KINDS else ""
    run = RetentionRun.objects.order_by("-day").first()
    candidates = _labelled(list(run.candidates.select_related("rule"))) if run else []
    form = DisposalProposeForm(request.POST or None, candidates=candidates)
    if request.method == "POST" and form.is_valid():
        chosen = [c for c in candidates if c.pk in set(form.cleaned_data["candidates"])]
        try:
            decision = disposal_propose(candidates=chosen, reason=form.cleaned_data["reason"], by=request.user)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("廃棄を起案しました。別のシステム管理者の承認を待っています。"))
            return redirect("casework:disposal_decision", pk=decision.pk)
    if run:
        log_retention_list(request, object_type="retentionrun", object_id=run.pk, rows=candidates)
    pending = list(
        DisposalDecision.objects.filter(status=DisposalDecision.Status.PROPOSED).select_related("proposed_by")[:50]
    )
    return render(
        request,
        "casework/retention/home.html",
        {
            "rules": rules,
            "run": run,
            "candidates": candidates,
            "form": form,
            "pending": pending,
            "held_count": (run.counts or {}).get("held", 0) if run else 0,
        },
    )


@require_POST
def retention_run_now(request):
    """Make today's list again now (the daily job does the same each morning)."""
    _require_administrator(request)
    run = retention_run(timezone.localdate())
    listed = sum(v for k, v in run.counts.items() if k != "held")
    messages.success(request, _("今日の廃棄対象を確認しました（%(n)s件）。") % {"n": listed})
    return redirect("casework:retention")


@require_http_methods(["GET", "POST"])
def retention_rule_edit(request, pk: int):
    """Set one kind's period and its basis; saving confirms the rule for the city."""
    _require_administrator(request)
    rule = get_object_or_404(RetentionRule, pk=object_pk(pk) or 0)
    rule.kind_label = kind_label(rule.kind)
    kind = RETENTION_KINDS.get(rule.kind)
    initial = {"years": rule.years, "basis": rule.basis, "is_active": rule.is_active}
    form = RetentionRuleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            retention_rule_update(
                rule=rule, years=data["years"], basis=data["basis"], is_active=data["is_active"], by=request.user
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("保存期間の規則を確認・保存しました。"))
            return redirect("casework:retention")
    return render(request, "casework/retention/rule.html", {"rule": rule, "kind": kind, "form": form})


@require_http_methods(["GET", "POST"])
def disposal_decision(request, pk: int):
    """One decision: its records; a second administrator approves (and disposes) or rejects it."""
    _require_administrator(request)
    decision = get_object_or_404(
        DisposalDecision.objects.select_related("proposed_by", "decided_by"), pk=object_pk(pk) or 0
    )
    form = DisposalDecideForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        action, note = form.cleaned_data["action"], form.cleaned_data["note"]
        try:
            if action == "approve":
                decision = disposal_approve(decision=decision, by=request.user, note=note)
                messages.success(request, _("承認し、廃棄しました。"))
            else:
                decision = disposal_reject(decision=decision, by=request.user, note=note)
                messages.success(request, _("廃棄の起案を却下・取下げしました。"))
        except ValidationError as error:
            _add_errors(form, error)
        else:
            return redirect("casework:disposal_decision", pk=decision.pk)
    items = _labelled(list(decision.items.select_related("rule")))
    log_retention_list(request, object_type="disposaldecision", object_id=decision.pk, rows=items)
    return render(
        request,
        "casework/retention/decision.html",
        {
            "decision": decision,
            "items": items,
            "form": form,
            "own_proposal": decision.proposed_by_id == request.user.pk,
            "tombstones": _labelled(list(decision.tombstones.all())),
        },
    )


def disposal_history(request):
    """Decisions and the tombstones of what was disposed of (kind, number, when, which decision and rule)."""
    _require_administrator(request)
    decisions = list(DisposalDecision.objects.select_related("proposed_by", "decided_by")[:200])
    tombstones = _labelled(list(DisposalTombstone.objects.select_related("decision")[:500]))
    log_retention_list(request, object_type="disposaltombstone", object_id="", rows=tombstones)
    return render(request, "casework/retention/history.html", {"decisions": decisions, "tombstones": tombstones})


@require_http_methods(["GET", "POST"])
def legal_holds(request):
    """Holds in force and lifted; set a hold on a case (by number) or a person (by id)."""
    _require_administrator(request)
    form = LegalHoldForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            legal_hold_set(
                case_number=data["case_number"], person_id=data["person_id"], reason=data["reason"], by=request.user
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("廃棄を停止しました。"))
            return redirect("casework:legal_holds")
    holds = list(LegalHold.objects.select_related("case", "set_by", "released_by")[:300])
    log_legal_hold_list(request, holds)
    return render(
        request, "casework/retention/holds.html", {"form": form, "holds": holds, "release": LegalHoldReleaseForm()}
    )


@require_POST
def legal_hold_release_view(request, pk: int):
    """Lift a hold with a reason."""
    _require_administrator(request)
    hold = get_object_or_404(LegalHold, pk=object_pk(pk) or 0)
    form = LegalHoldReleaseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("解除の理由を入力してください。"))
        return redirect("casework:legal_holds")
    try:
        legal_hold_release(hold=hold, reason=form.cleaned_data["release_reason"], by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("廃棄の停止を解除しました。"))
    return redirect("casework:legal_holds")


def file_ledger(request):
    """The 個人情報ファイル簿 entry of this system's file, from the live data."""
    _require_administrator(request)
    return render(request, "casework/retention/file_ledger.html", {"entry": personal_info_file_entry()})


def file_ledger_csv(request):
    """The same entry as an Excel-ready CSV (UTF-8 with BOM, formula cells neutralised)."""
    _require_administrator(request)
    data, _replaced = encode_csv(["項目", "内容"], personal_info_file_entry())
    response = HttpResponse(data, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="kojin-joho-file-bo.csv"'
    return response
