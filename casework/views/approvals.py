"""決裁: the supervisor's list of requests and the screen to approve or send one back."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from casework.access import get_approval_for_supervisor, log_approval_list
from casework.choices import Role
from casework.forms import ApprovalDecisionForm
from casework.models import AccessLog, ApprovalRequest, ApprovalState
from casework.services.approvals import approval_decide, may_decide
from casework.services.common import CaseChanged, InvalidTransition
from casework.viewers import viewer_for
from casework.views.common import case_view

RECENT_DECIDED = 20


@case_view
@require_http_methods(["GET"])
def approval_list(request):
    """The requests waiting for the supervisor's 決裁 in the organization they act for, and the latest decided."""
    viewer = viewer_for(request)
    organization_ids = viewer.organization_ids(Role.SUPERVISOR)
    if not organization_ids:
        raise Http404
    rows = ApprovalRequest.objects.filter(case__lead_organization_id__in=organization_ids).select_related(
        "case", "requested_by", "decided_by"
    )
    pending = list(rows.filter(state=ApprovalState.PENDING).order_by("requested_at", "id"))
    decided = list(rows.exclude(state=ApprovalState.PENDING).order_by("-decided_at", "-id")[:RECENT_DECIDED])
    log_approval_list(request, pending + decided)
    return render(request, "casework/approval_list.html", {"pending": pending, "decided": decided})


@case_view
@require_http_methods(["GET", "POST"])
def approval_detail(request, pk: int, approval_pk: int):
    """Show exactly what is requested; a supervisor of the lead organization other than the requester decides."""
    action = AccessLog.Action.CHANGE if request.method == "POST" else AccessLog.Action.VIEW
    case, approval = get_approval_for_supervisor(request, pk, approval_pk, action=action)
    viewer = viewer_for(request)
    can_decide = approval.is_pending and may_decide(viewer, approval, case)
    form = ApprovalDecisionForm(request.POST or None)
    if request.method == "POST":
        if not approval.is_pending:
            messages.error(request, _("この申請はすでに決裁されています。"))
            return redirect("casework:approval_detail", pk=case.pk, approval_pk=approval.pk)
        if form.is_valid():
            approve = form.cleaned_data["decision"] == "approve"
            try:
                approval_decide(
                    approval=approval, by=request.user, approve=approve, comment=form.cleaned_data["comment"]
                )
            except (ValidationError, PermissionDenied, InvalidTransition, CaseChanged) as exc:
                text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                form.add_error(None, text)
            else:
                if approve:
                    messages.success(
                        request,
                        _("%(kind)sを承認しました。ケースに反映し、申請者に知らせました。")
                        % {"kind": approval.get_kind_display()},
                    )
                else:
                    messages.success(request, _("差し戻しました。何も変更せず、申請者にコメントを知らせました。"))
                return redirect("casework:approvals")
    return render(
        request,
        "casework/approval_detail.html",
        {
            "case": case,
            "approval": approval,
            "form": form,
            "can_decide": can_decide,
            "own_request": approval.requested_by_id == request.user.pk,
        },
    )
