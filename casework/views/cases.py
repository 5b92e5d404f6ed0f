"""Case list, case page, team, state transitions, case details and the lead hand-over."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from casework import selectors
from casework.access import (
    get_case_for_lead_member,
    get_case_for_user,
    is_lead_member,
    log_case_list,
    sees_secret_addresses,
)
from casework.assessment import checklist_rows
from casework.choices import Domain
from casework.disclosure import Purpose, case_basis
from casework.forms import (
    CaseEditForm,
    LeadChangeForm,
    TeamAddForm,
    TransitionForm,
)
from casework.models import (
    Case,
    CaseState,
    Household,
    Organization,
)
from casework.services.approvals import (
    CLOSING_KINDS,
    approval_required,
    case_close_or_request,
    pending_closing_request,
)
from casework.services.cases import (
    REASON_REQUIRED,
    case_change_lead,
    case_open_things,
    case_team_add,
    case_team_remove,
    case_transition,
    case_update,
)
from casework.services.common import CaseChanged, InvalidTransition
from casework.viewers import viewer_for
from casework.views.common import (
    PAGE_SIZE,
    case_view,
    conflict_page,
    form_page,
    lead_change_case,
    posted_action,
    wants_json,
)
from core.panels import case_panels


@case_view
@require_http_methods(["GET"])
def case_list(request, mine: bool = False):
    """Search and filter the user's cases; the page logs every person it shows."""
    viewer = viewer_for(request)
    params = request.GET
    try:
        lead_org = int(params.get("lead_organization") or 0) or None
    except ValueError:
        lead_org = None
    q = params.get("q", "").strip()[:100]
    filters = {
        "q": "" if any(c in q for c in "\x00\ufffd") else q,
        "domain": params.get("domain", "") if params.get("domain") in Domain.values else "",
        "state": params.get("state", "") if params.get("state") in CaseState.values else "",
        "tag": params.get("tag", "") if params.get("tag") in Household.Tag.values else "",
        "lead_organization": lead_org,
        "review_due": params.get("review_due") == "1",
        "mine": mine or params.get("mine") == "1",
    }
    cases = selectors.case_search(viewer, **filters)
    page = Paginator(cases, PAGE_SIZE).get_page(params.get("page"))
    rows = list(page.object_list)
    log_case_list(request, rows, filters)
    query = params.copy()
    query.pop("page", None)
    return render(
        request,
        "casework/case_list.html",
        {
            "page": page,
            "cases": rows,
            "filters": filters,
            "querystring": query.urlencode(),
            "domains": Domain.choices,
            "states": CaseState.choices,
            "tags": Household.Tag.choices,
            # EXISTS stops at the first led case; a join with DISTINCT read all 25,000 (134.6 → 1.2 ms, BENCHMARKS.md).
            "organizations": Organization.objects.filter(
                Exists(Case.objects.filter(lead_organization=OuterRef("pk"))), is_active=True
            ),
            "mine": filters["mine"],
        },
    )


@case_view
@require_http_methods(["GET"])
def case_detail(request, pk: int):
    """Show the case: household, consent per person, plan, records, history and allowed moves."""
    viewer = viewer_for(request)
    case = get_case_for_user(request, pk)
    is_lead = is_lead_member(viewer, case)
    lead_change = case_basis(viewer, case, Purpose.LEAD_CHANGE) is not None
    context = selectors.case_detail_context(case, show_secret_addresses=sees_secret_addresses(viewer, case))
    labels = dict(CaseState.choices)
    context.update(
        {
            "case": case,
            "access": case.access,
            "is_lead": is_lead,
            # Team, state, persons, household and consents: buttons only for the lead organization.
            "lead_change": lead_change,
            "targets": [(s, labels[s]) for s in case.target_states()] if lead_change else [],
            "panels": case_panels(request, case, viewer),
            "assessment_rows": [(a, checklist_rows(a.checklist, a.schema_version)) for a in context["assessments"][:1]],
        }
    )
    return render(request, "casework/case_detail.html", context)


@case_view
@require_http_methods(["GET", "POST"])
def team(request, pk: int):
    """List the case team; its lead organization adds organizations (on a basis) or removes them."""
    if request.method == "POST":
        case = lead_change_case(request, pk)
    else:
        case = get_case_for_user(request, pk)
    can_edit = case_basis(viewer_for(request), case, Purpose.LEAD_CHANGE) is not None
    rows = list(case.team_rows.filter(ended_at__isnull=True).select_related("organization"))
    form = TeamAddForm(
        request.POST if request.POST.get("form") == "add" else None, exclude_ids=[r.organization_id for r in rows]
    )
    if request.method == "POST":
        if request.POST.get("form") == "add" and form.is_valid():
            try:
                case_team_add(
                    case=case,
                    organization=form.cleaned_data["organization"],
                    note=form.cleaned_data["note"],
                    by=request.user,
                )
            except ValidationError as exc:
                form.add_error(None, " ".join(exc.messages))
            else:
                messages.success(request, _("ケースチームに追加しました。"))
                return redirect("casework:team", pk=case.pk)
        if request.POST.get("form") == "remove":
            row = next((r for r in rows if str(r.organization_id) == request.POST.get("organization")), None)
            if row is None:
                raise Http404
            try:
                case_team_remove(case=case, organization=row.organization, by=request.user)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, _("ケースチームから外しました。"))
            return redirect("casework:team", pk=case.pk)
    return form_page(request, case, "casework/team.html", form, rows=rows, can_edit=can_edit)


@case_view
@require_http_methods(["GET", "POST"])
def transition(request, pk: int):
    """Move the case (its lead organization only); a stale form gets a message (HTML) or 409 (htmx / JSON)."""
    case = lead_change_case(request, pk)
    labels = dict(CaseState.choices)
    closable = bool(REASON_REQUIRED & set(case.target_states()))
    form = TransitionForm(
        request.POST or None,
        initial={"to_state": request.GET.get("to", ""), "expected_version": case.version},
        open_things=case_open_things(case, request.user) if closable else (),
    )
    done: list[str] = []
    waiting = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["to_state"] in REASON_REQUIRED:
                # With 決裁 switched on this records a request and changes nothing on the case.
                outcome = case_close_or_request(
                    case=case,
                    to_state=data["to_state"],
                    by=request.user,
                    reason=data["reason"],
                    choices=form.open_choices(),
                    expected_version=data["expected_version"],
                    decided_by_label=data["decided_by_label"],
                )
                done, waiting = outcome.done, outcome.approval
            else:
                case_transition(
                    case=case,
                    to_state=data["to_state"],
                    by=request.user,
                    reason=data["reason"],
                    expected_version=data["expected_version"],
                    decided_by_label=data["decided_by_label"],
                )
        except CaseChanged as exc:
            return conflict_page(request, case, exc)
        except InvalidTransition as exc:
            if wants_json(request):
                return HttpResponse(
                    json.dumps({"error": "invalid", "message": str(exc)}, ensure_ascii=False),
                    status=400,
                    content_type="application/json",
                )
            form.add_error(None, str(exc))
        else:
            if waiting is not None:
                messages.success(
                    request,
                    _(
                        "「%(s)s」の決裁を申請しました。主担当機関のスーパーバイザーが承認するまで、ケースの状態と"
                        "残っているものは変わりません。"
                    )
                    % {"s": labels[data["to_state"]]},
                )
                return redirect(case)
            messages.success(request, _("状態を「%(s)s」に変更しました。") % {"s": labels[data["to_state"]]})
            for sentence in done:
                messages.info(request, sentence)
            return redirect(case)
    targets = [(s, labels[s]) for s in case.target_states()]
    needs_approval = [
        labels[s] for s, kind in CLOSING_KINDS.items() if s in case.target_states() and approval_required(kind)
    ]
    return form_page(
        request,
        case,
        "casework/transition_form.html",
        form,
        targets=targets,
        needs_approval=needs_approval,
        pending_closing=pending_closing_request(case),
        asks_approval=form["to_state"].value() in {s for s, kind in CLOSING_KINDS.items() if approval_required(kind)},
    )


@case_view
@require_http_methods(["GET", "POST"])
def case_edit(request, pk: int):
    """Change the case's domains, categories, route, lead worker and summary against its version."""
    case = lead_change_case(request, pk)
    form = CaseEditForm(
        request.POST or None, case=case, workers=selectors.lead_worker_candidates(case.lead_organization_id)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            case_update(
                case=case,
                by=request.user,
                domains=data["domains"],
                main_category=data["main_category"],
                categories=data["categories"],
                intake_route=data["intake_route"],
                lead_worker=data["lead_worker"],
                summary=data["summary"],
                expected_version=data["expected_version"],
            )
        except CaseChanged as exc:
            return conflict_page(request, case, exc)
        except ValidationError as exc:
            form.add_error(None, " ".join(exc.messages))
        else:
            messages.success(request, _("ケースの詳細を保存しました。"))
            return redirect(case)
    return form_page(request, case, "casework/case_form.html", form)


@case_view
@require_http_methods(["GET", "POST"])
def case_change_lead_view(request, pk: int):
    """Hand the lead to another window or coordinator (members of the current lead organization only)."""
    case = get_case_for_lead_member(request, pk, action=posted_action(request))
    organizations = selectors.lead_organization_candidates(case)
    memberships = selectors.lead_worker_memberships(organizations)
    form = LeadChangeForm(request.POST or None, case=case, organizations=organizations, memberships=memberships)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        worker = next((m.user for m in memberships if m.user_id == data["lead_worker"]), None)
        try:
            case_change_lead(
                case=case,
                organization=data["organization"],
                lead_worker=worker,
                reason=data["reason"],
                by=request.user,
                expected_version=data["expected_version"],
            )
        except CaseChanged as exc:
            return conflict_page(request, case, exc)
        except ValidationError as exc:
            form.add_error(None, " ".join(exc.messages))
        else:
            messages.success(
                request,
                _("主担当を%(org)sに変更しました。これまでの主担当機関はケースチームに残っています。")
                % {"org": data["organization"].name},
            )
            return redirect(case)
    return form_page(request, case, "casework/lead_change_form.html", form)
