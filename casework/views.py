"""Case screens: thin views over the access helpers, services and selectors."""

from __future__ import annotations

import functools
import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from casework import audit, selectors, services
from casework.access import (
    CASE_ROLES,
    case_access,
    get_case_for_lead_member,
    get_case_for_user,
    get_case_record_for_user,
    is_lead_member,
    log_case_list,
    person_ids_for_case,
    possible_duplicates_for_user,
    sees_secret_addresses,
)
from casework.assessment import checklist_rows
from casework.choices import Domain
from casework.disclosure import Purpose, case_basis
from casework.forms import (
    AssessmentForm,
    BreakGlassForm,
    CaseEditForm,
    ConsentForm,
    ContactForm,
    HouseholdForm,
    IntakeForm,
    LeadChangeForm,
    MemberEditForm,
    MemberEndForm,
    MemberForm,
    NextReviewForm,
    PersonEditForm,
    PlanApproveForm,
    PlanForm,
    PlanRoleForm,
    TeamAddForm,
    TransitionForm,
    WithdrawForm,
)
from casework.models import (
    AccessLog,
    Assessment,
    Case,
    CaseState,
    Consent,
    Household,
    HouseholdMember,
    Organization,
    Person,
    PlanRole,
    SupportPlan,
)
from casework.selectors import viewer_for
from core.panels import case_panels

PAGE_SIZE = 25


def case_worker_required(view):
    """Only caseworkers and supervisors have case screens; everyone else gets 404."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not viewer_for(request).works_cases:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def case_view(view):
    return case_worker_required(view)


def _wants_json(request) -> bool:
    return bool(getattr(request, "htmx", False)) or "application/json" in request.headers.get("Accept", "")


def _people(case: Case) -> list[Person]:
    return list(Person.objects.filter(pk__in=person_ids_for_case(case)).order_by("id"))


def _form_page(request, case, template, form, **extra):
    return render(request, template, {"case": case, "form": form, **extra})


# ---------------------------------------------------------------------------
# List, detail, intake
# ---------------------------------------------------------------------------


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


def _member_forms(request, count: int):
    data = request.POST if request.method == "POST" else None
    forms = []
    for i in range(1, count + 1):
        form = MemberForm(data, prefix=f"p{i}", empty_permitted=i > 1, use_required_attribute=i == 1)
        if i == 1:
            form.fields["relationship"].initial = "self"
        forms.append(form)
    return forms


def _resolve_duplicates(request, viewer, forms) -> tuple[list, bool]:
    """Attach possible duplicates to each member form; return (links, needs_choice)."""
    needs_choice = False
    links = []
    for form in forms:
        form.duplicates = []
        if not form.is_valid() or form.is_blank():
            links.append(None)
            continue
        data = form.cleaned_data
        dups = possible_duplicates_for_user(
            request,
            family_name_kana=data["family_name_kana"],
            given_name_kana=data["given_name_kana"],
            birth_date=data["birth_date"],
        )
        form.duplicates = dups
        choice = data.get("link_person") or ""
        if dups and not choice:
            needs_choice = True
            links.append(None)
        elif choice and choice != "new":
            link = next((p for p in dups if str(p.pk) == choice), None)
            if link is None:
                form.add_error(None, _("選んだ既存の方が見つかりません。もう一度選んでください。"))
                needs_choice = True
            links.append(link)
        else:
            links.append(None)
    return links, needs_choice


@case_view
@require_http_methods(["GET", "POST"])
def case_intake(request):
    """Take in a household with one or two members and open a cross-domain case."""
    viewer = viewer_for(request)
    organizations = viewer.organizations(*CASE_ROLES)
    intake = IntakeForm(request.POST or None, organizations=organizations)
    members = _member_forms(request, 2)
    if request.method == "POST":
        valid = intake.is_valid() & all([f.is_valid() for f in members])
        links, needs_choice = _resolve_duplicates(request, viewer, members) if valid else ([], False)
        if valid and not needs_choice and not any(f.errors for f in members):
            try:
                case = _open_from_intake(request, intake, members, links)
            except ValidationError as exc:
                intake.add_error(None, exc)
            else:
                messages.success(request, _("ケース %(n)s を受け付けました。") % {"n": case.number})
                return redirect(case)
    return render(
        request,
        "casework/intake.html",
        {"intake": intake, "members": members, "needs_choice": any(getattr(f, "duplicates", []) for f in members)},
    )


@transaction.atomic
def _open_from_intake(request, intake, members, links) -> Case:
    by = request.user
    data = intake.cleaned_data
    household = services.household_create(name=data["household_name"], tags=data["tags"], by=by)
    subjects = []
    for form, link in zip(members, links, strict=True):
        if form.is_blank() and link is None:
            continue
        person = link or services.person_create(by=by, **form.person_data())
        services.household_add_member(
            household=household,
            person=person,
            relationship=form.cleaned_data["relationship"],
            relationship_note=form.cleaned_data["relationship_note"],
            lives_together=form.cleaned_data["lives_together"],
            is_key_person=form.cleaned_data["is_key_person"],
            by=by,
        )
        if form.cleaned_data["is_subject"]:
            subjects.append(person)
    if not subjects:
        raise ValidationError(_("対象者を一人以上選んでください（「このケースの対象者」）。"))
    return services.case_open(
        household=household,
        subjects=subjects,
        domains=data["domains"],
        categories=data["categories"],
        main_category=data["main_category"],
        intake_route=data["intake_route"],
        lead_organization=data["lead_organization"],
        lead_worker=by,
        summary=data["summary"],
        opened_on=data["opened_on"],
        by=by,
    )


# ---------------------------------------------------------------------------
# Records under a case
# ---------------------------------------------------------------------------


def _change_case(request, pk) -> Case:
    """Fetch the case for a change screen: GET logs a view, POST logs a change."""
    action = AccessLog.Action.CHANGE if request.method == "POST" else AccessLog.Action.VIEW
    return get_case_for_user(request, pk, action=action, for_change=True)


def _lead_change_case(request, pk) -> Case:
    """Fetch the case for a screen only its lead organization uses (team, state, persons, consents)."""
    return get_case_for_lead_member(request, pk, action=_action(request))


@case_view
@require_http_methods(["GET", "POST"])
def member_add(request, pk: int):
    """Add a member to the case's household (optionally naming them a subject)."""
    viewer = viewer_for(request)
    case = _lead_change_case(request, pk)
    form = MemberForm(request.POST or None, prefix="p1")
    form.duplicates = []
    if request.method == "POST" and form.is_valid():
        links, needs_choice = _resolve_duplicates(request, viewer, [form])
        if not needs_choice and not form.errors:
            with transaction.atomic():
                person = links[0] or services.person_create(by=request.user, case=case, **form.person_data())
                try:
                    services.household_add_member(
                        household=case.household,
                        person=person,
                        relationship=form.cleaned_data["relationship"],
                        relationship_note=form.cleaned_data["relationship_note"],
                        lives_together=form.cleaned_data["lives_together"],
                        is_key_person=form.cleaned_data["is_key_person"],
                        by=request.user,
                        case=case,
                    )
                except ValidationError as exc:
                    form.add_error(None, exc)
                    transaction.set_rollback(True)
                else:
                    if form.cleaned_data["is_subject"]:
                        services.case_add_subject(case=case, person=person, by=request.user)
                    messages.success(request, _("世帯員を追加しました。"))
                    return redirect(case)
    return _form_page(request, case, "casework/member_form.html", form)


@case_view
@require_http_methods(["GET", "POST"])
def consent_create(request, pk: int):
    """Record a consent (or refusal) for one person of the case."""
    case = _lead_change_case(request, pk)
    people = _people(case)
    form = ConsentForm(request.POST or None, request.FILES or None, people=people)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        person = next(p for p in people if p.pk == data["person"])
        organizations = list(data["organizations"])
        if data["scope_kind"] == Consent.ScopeKind.NAMED and organizations:
            # The lead organization holds the case: a named scope never leaves it out silently.
            if all(org.pk != case.lead_organization_id for org in organizations):
                organizations.append(case.lead_organization)
                messages.info(
                    request, _("提供先に主担当機関（%(org)s）を加えました。") % {"org": case.lead_organization.name}
                )
        try:
            services.consent_record(
                person=person,
                case=case,
                given_by=data["given_by"],
                giver_name=data["giver_name"],
                given_on=data["given_on"],
                method=data["method"],
                explained_by=request.user,
                document_version=data["document_version"],
                scope_kind=data["scope_kind"],
                organizations=organizations,
                purposes=data["purposes"],
                valid_until=data["valid_until"],
                status=data["status"],
                scanned_form=data["scanned_form"],
                by=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("同意を記録しました。"))
            return redirect(case)
    return _form_page(request, case, "casework/consent_form.html", form)


@case_view
@require_http_methods(["GET", "POST"])
def consent_withdraw(request, pk: int, consent_pk: int):
    """Record the withdrawal of a consent."""
    action = AccessLog.Action.CHANGE if request.method == "POST" else AccessLog.Action.VIEW
    case, consent = get_case_record_for_user(
        request, pk, Consent, consent_pk, action=action, purpose=Purpose.LEAD_CHANGE
    )
    form = WithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.consent_withdraw(
                consent=consent,
                withdrawn_on=form.cleaned_data["withdrawn_on"],
                note=form.cleaned_data["note"],
                by=request.user,
                case=case,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("同意の撤回を記録しました。"))
            return redirect(case)
    return _form_page(request, case, "casework/withdraw_form.html", form, consent=consent)


@case_view
@require_http_methods(["GET"])
def consent_form_download(request, pk: int, consent_pk: int):
    """Serve a scanned consent form as an attachment, after the case check and a log row."""
    case, consent = get_case_record_for_user(request, pk, Consent, consent_pk, action=AccessLog.Action.EXPORT)
    if not consent.scanned_form:
        raise Http404
    suffix = consent.scanned_form.name.rsplit(".", 1)[-1].lower()
    response = FileResponse(
        consent.scanned_form.open("rb"), as_attachment=True, filename=f"consent-{consent.pk}.{suffix}"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


@case_view
@require_http_methods(["GET", "POST"])
def assessment_create(request, pk: int):
    """Record an intake assessment."""
    case = _change_case(request, pk)
    form = AssessmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.assessment_record(
            case=case,
            checklist=form.checklist(),
            narrative=form.cleaned_data["narrative"],
            assessed_on=form.cleaned_data["assessed_on"],
            by=request.user,
        )
        messages.success(request, _("アセスメントを記録しました。"))
        return redirect(case)
    return _form_page(request, case, "casework/assessment_form.html", form)


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
def plan_create(request, pk: int):
    """Draft a new version of the support plan."""
    case = _change_case(request, pk)
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
        plan = services.plan_create(case=case, by=request.user, roles=roles, **form.cleaned_data)
        messages.success(request, _("支援プラン第%(v)s版を作成しました。") % {"v": plan.version})
        return redirect("casework:plan_detail", pk=case.pk, plan_pk=plan.pk)
    return _form_page(request, case, "casework/plan_form.html", form)


@case_view
@require_http_methods(["GET", "POST"])
def plan_detail(request, pk: int, plan_pk: int):
    """Show a plan; while it is a draft, edit it and its roles here."""
    editing = request.method == "POST"
    action = AccessLog.Action.CHANGE if editing else AccessLog.Action.VIEW
    case, plan = get_case_record_for_user(request, pk, SupportPlan, plan_pk, action=action, for_change=editing)
    editable = case.access.can_change and plan.status in {SupportPlan.Status.DRAFT, SupportPlan.Status.PROPOSED}
    plan_form = PlanForm(
        request.POST if request.POST.get("form") == "plan" else None,
        initial={f: getattr(plan, f) for f in services.PLAN_FIELDS},
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
        },
    )


def _set_next_review(request, case, form) -> bool:
    """Set the approved plan's next review date from the plan page; return True when it was saved."""
    if not form.is_valid():
        return False
    try:
        services.plan_set_next_review(case=case, next_review_on=form.cleaned_data["next_review_on"], by=request.user)
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
        services.plan_update(plan=plan, by=by, **plan_form.cleaned_data)
        messages.success(request, _("プランを保存しました。"))
        return True
    if which == "role" and role_form.is_valid():
        services.plan_role_add(plan=plan, by=by, **role_form.cleaned_data)
        messages.success(request, _("役割分担を追加しました。"))
        return True
    if which == "role_remove":
        role = PlanRole.objects.filter(plan=plan, pk=request.POST.get("role") or 0).first()
        if role is None:
            raise Http404
        services.plan_role_remove(role=role, by=by)
        messages.success(request, _("役割分担を削除しました。"))
        return True
    if which == "propose":
        services.plan_propose(plan=plan, by=by)
        messages.success(request, _("プランを会議に提案しました。"))
        return True
    if which == "approve" and approve_form.is_valid():
        services.plan_approve(plan=plan, by=by, decided_by_label=approve_form.cleaned_data["decided_by_label"])
        messages.success(request, _("プランを承認しました。"))
        return True
    return False


@case_view
@require_http_methods(["GET", "POST"])
def contact_create(request, pk: int):
    """Record a contact, visit or failed attempt."""
    case = _change_case(request, pk)
    people = _people(case)
    form = ContactForm(request.POST or None, people=people)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        person = next((p for p in people if p.pk == data["person"]), None)
        services.contact_record_create(
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
    return _form_page(request, case, "casework/contact_form.html", form)


@case_view
@require_http_methods(["GET", "POST"])
def team(request, pk: int):
    """List the case team; its lead organization adds organizations (on a basis) or removes them."""
    if request.method == "POST":
        case = _lead_change_case(request, pk)
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
                services.case_team_add(
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
                services.case_team_remove(case=case, organization=row.organization, by=request.user)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, _("ケースチームから外しました。"))
            return redirect("casework:team", pk=case.pk)
    return _form_page(request, case, "casework/team.html", form, rows=rows, can_edit=can_edit)


@case_view
@require_http_methods(["GET", "POST"])
def transition(request, pk: int):
    """Move the case (its lead organization only); a stale form gets a message (HTML) or 409 (htmx / JSON)."""
    case = _lead_change_case(request, pk)
    labels = dict(CaseState.choices)
    form = TransitionForm(
        request.POST or None,
        initial={"to_state": request.GET.get("to", ""), "expected_version": case.version},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.case_transition(
                case=case,
                to_state=data["to_state"],
                by=request.user,
                reason=data["reason"],
                expected_version=data["expected_version"],
                decided_by_label=data["decided_by_label"],
            )
        except services.CaseChanged as exc:
            return _conflict(request, case, exc)
        except services.InvalidTransition as exc:
            if _wants_json(request):
                return HttpResponse(
                    json.dumps({"error": "invalid", "message": str(exc)}, ensure_ascii=False),
                    status=400,
                    content_type="application/json",
                )
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("状態を「%(s)s」に変更しました。") % {"s": labels[data["to_state"]]})
            return redirect(case)
    targets = [(s, labels[s]) for s in case.target_states()]
    return _form_page(request, case, "casework/transition_form.html", form, targets=targets)


# ---------------------------------------------------------------------------
# Edit screens: persons, the household, the case's details and its lead
# ---------------------------------------------------------------------------


def _action(request) -> str:
    return AccessLog.Action.CHANGE if request.method == "POST" else AccessLog.Action.VIEW


def _conflict(request, case, exc: services.CaseChanged):
    """Answer a stale form: 409 with JSON for htmx / API callers, else the case page with the message."""
    if _wants_json(request):
        return HttpResponse(
            json.dumps({"error": "conflict", "message": exc.message}, ensure_ascii=False),
            status=409,
            content_type="application/json",
        )
    messages.error(request, exc.message)
    return redirect(case)


@case_view
@require_http_methods(["GET", "POST"])
def person_edit(request, pk: int, person_pk: int):
    """Change a subject or household member of the case; a 住所秘匿 address stays with the lead organization."""
    case, person = get_case_record_for_user(
        request, pk, Person, person_pk, action=_action(request), purpose=Purpose.LEAD_CHANGE
    )
    form = PersonEditForm(
        request.POST or None, person=person, show_address=sees_secret_addresses(viewer_for(request), case)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.person_update(person=person, by=request.user, case=case, **form.person_data())
        except ValidationError as exc:
            form.add_error(None, " ".join(exc.messages))
        else:
            messages.success(request, _("%(name)sさんの情報を保存しました。") % {"name": person.display_name})
            return redirect(case)
    return _form_page(request, case, "casework/person_form.html", form, person=person)


@case_view
@require_http_methods(["GET", "POST"])
def household_edit(request, pk: int):
    """Change the household's name, tags and note; list its members (past ones too) with their edit links."""
    case = _lead_change_case(request, pk)
    household = case.household
    form = HouseholdForm(
        request.POST or None, initial={"name": household.name, "tags": household.tags, "note": household.note}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.household_update(household=household, by=request.user, case=case, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, " ".join(exc.messages))
        else:
            messages.success(request, _("世帯の情報を保存しました。"))
            return redirect(case)
    members = selectors.household_members(household.pk)
    return _form_page(request, case, "casework/household_form.html", form, members=members)


@case_view
@require_http_methods(["GET", "POST"])
def household_member_edit(request, pk: int, member_pk: int):
    """Change a member's 続柄 and 同居/別居, or record the day they left the household (the row stays)."""
    case, member = get_case_record_for_user(
        request,
        pk,
        HouseholdMember,
        member_pk,
        action=_action(request),
        purpose=Purpose.LEAD_CHANGE,
        queryset=HouseholdMember.objects.select_related("person"),
    )
    which = request.POST.get("form")
    form = MemberEditForm(
        request.POST if which == "member" else None,
        initial={name: getattr(member, name) for name in services.MEMBER_FIELDS},
    )
    end_form = MemberEndForm(request.POST if which == "end" else None)
    if request.method == "POST":
        try:
            if which == "member" and form.is_valid():
                services.household_member_update(member=member, by=request.user, case=case, **form.cleaned_data)
                messages.success(request, _("続柄・同居の情報を保存しました。"))
                return redirect("casework:household_edit", pk=case.pk)
            if which == "end" and end_form.is_valid():
                services.household_member_end(
                    member=member, until=end_form.cleaned_data["until"], by=request.user, case=case
                )
                messages.success(request, _("世帯から外れたことを記録しました（記録は残ります）。"))
                return redirect("casework:household_edit", pk=case.pk)
        except ValidationError as exc:
            (end_form if which == "end" else form).add_error(None, " ".join(exc.messages))
    return _form_page(request, case, "casework/household_member_form.html", form, member=member, end_form=end_form)


@case_view
@require_http_methods(["GET", "POST"])
def case_edit(request, pk: int):
    """Change the case's domains, categories, route, lead worker and summary against its version."""
    case = _lead_change_case(request, pk)
    form = CaseEditForm(
        request.POST or None, case=case, workers=selectors.lead_worker_candidates(case.lead_organization_id)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.case_update(
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
        except services.CaseChanged as exc:
            return _conflict(request, case, exc)
        except ValidationError as exc:
            form.add_error(None, " ".join(exc.messages))
        else:
            messages.success(request, _("ケースの詳細を保存しました。"))
            return redirect(case)
    return _form_page(request, case, "casework/case_form.html", form)


@case_view
@require_http_methods(["GET", "POST"])
def case_change_lead(request, pk: int):
    """Hand the lead to another window or coordinator (members of the current lead organization only)."""
    case = get_case_for_lead_member(request, pk, action=_action(request))
    organizations = selectors.lead_organization_candidates(case)
    memberships = selectors.lead_worker_memberships(organizations)
    form = LeadChangeForm(request.POST or None, case=case, organizations=organizations, memberships=memberships)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        worker = next((m.user for m in memberships if m.user_id == data["lead_worker"]), None)
        try:
            services.case_change_lead(
                case=case,
                organization=data["organization"],
                lead_worker=worker,
                reason=data["reason"],
                by=request.user,
                expected_version=data["expected_version"],
            )
        except services.CaseChanged as exc:
            return _conflict(request, case, exc)
        except ValidationError as exc:
            form.add_error(None, " ".join(exc.messages))
        else:
            messages.success(
                request,
                _("主担当を%(org)sに変更しました。これまでの主担当機関はケースチームに残っています。")
                % {"org": data["organization"].name},
            )
            return redirect(case)
    return _form_page(request, case, "casework/lead_change_form.html", form)


# ---------------------------------------------------------------------------
# Break-glass
# ---------------------------------------------------------------------------


@case_view
@require_http_methods(["GET", "POST"])
def break_glass(request):
    """Open a case outside one's caseload in an emergency: number and reason first, then 404 or the case."""
    form = BreakGlassForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        number = form.cleaned_data["number"].strip().upper()
        case = Case.objects.filter(number=number).first()
        if case is None:
            audit.log_access(
                actor=request.user,
                action=AccessLog.Action.DENIED,
                object_type="case_number",
                object_id=number[:40],
                reason=form.cleaned_data["reason"],
                basis=AccessLog.Basis.BREAK_GLASS,
                outcome=AccessLog.Outcome.DENIED,
            )
            raise Http404
        if case_access(viewer_for(request), case) is not None:
            # Already in the caseload: no emergency needed.
            return redirect(case)
        services.break_glass_open(user=request.user, case=case, reason=form.cleaned_data["reason"])
        messages.warning(request, _("緊急アクセスを開始しました。閲覧はすべて記録され、監査担当者が確認します。"))
        return redirect(case)
    return render(request, "casework/break_glass.html", {"form": form})
