"""The casework 帳票 (print views and PDFs), the genogram and ecomap, and the small form that feeds them."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from casework.access import (
    get_case_for_document,
    get_case_for_user,
    get_case_record_for_user,
    is_lead_member,
    log_blank_form,
    object_pk,
)
from casework.disclosure import Purpose
from casework.forms import ContactPeriodForm, RelativeForm, SupportTieForm
from casework.models import (
    AccessLog,
    Assessment,
    CaseState,
    Consent,
    ConsultationCategory,
    HouseholdMember,
    IntakeRoute,
    Person,
    SupportPlan,
)
from casework.paper import drawings, imprint_for, render_document
from casework.paper.sheets import (
    assessment_sheet_context,
    consent_sheet_context,
    contact_default_start,
    contact_sheet_context,
    face_sheet_context,
    intake_sheet_context,
    plan_sheet_context,
)
from casework.services.family import relative_add, relative_remove, support_tie_add, support_tie_remove
from casework.viewers import viewer_for
from casework.views.common import case_view, lead_change_case


def document_action(pdf: bool) -> str:
    """A PDF download is logged as 出力, the print view as 印刷."""
    return AccessLog.Action.EXPORT if pdf else AccessLog.Action.PRINT


@case_view
@require_http_methods(["GET"])
def face_sheet(request, pk: int, pdf: bool = False):
    """フェイスシート（本人同意あり）: the household as typed, the consultation, consent, team, genogram and ecomap."""
    case = get_case_for_document(request, pk, document="face_sheet", action=document_action(pdf))
    viewer = viewer_for(request)
    context = face_sheet_context(case, viewer)
    context["imprint"] = imprint_for(request, viewer)
    return render_document(
        request, "casework/print/face_sheet.html", context, pdf=pdf, filename=f"フェイスシート_{case.number}.pdf"
    )


@case_view
@require_http_methods(["GET"])
def intake_sheet(request, pk: int, pdf: bool = False):
    """相談受付票（本人同意なし）: nothing that identifies a person; age bands instead of dates."""
    case = get_case_for_document(request, pk, document="intake_sheet_no_consent", action=document_action(pdf))
    context = intake_sheet_context(case)
    context["imprint"] = imprint_for(request, viewer_for(request))
    return render_document(
        request,
        "casework/print/intake_sheet.html",
        context,
        pdf=pdf,
        filename=f"相談受付票_本人同意なし_{case.number}.pdf",
    )


@case_view
@require_http_methods(["GET"])
def intake_blank(request, pdf: bool = False):
    """A blank 相談受付票 for handwriting on outreach: boxes and tick lists, no data."""
    log_blank_form(request, document="intake_sheet_blank", action=document_action(pdf))
    context = {
        "imprint": imprint_for(request, viewer_for(request)),
        "routes": IntakeRoute.choices,
        "categories": ConsultationCategory.choices,
        "genders": Person.Gender.choices,
        "relationships": HouseholdMember.Relationship.choices,
        "member_rows": range(5),
        "states": CaseState.choices,
    }
    return render_document(
        request, "casework/print/intake_blank.html", context, pdf=pdf, filename="相談受付票_白紙.pdf"
    )


def _svg_response(svg: str) -> HttpResponse:
    response = HttpResponse('<?xml version="1.0" encoding="UTF-8"?>\n' + svg, content_type="image/svg+xml")
    # An SVG opened on its own must not run anything even if a label slipped through.
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


@case_view
@require_http_methods(["GET"])
def genogram(request, pk: int):
    """The household's genogram as SVG (logged as 閲覧 of the persons it draws)."""
    case = get_case_for_document(request, pk, document="genogram", action=AccessLog.Action.VIEW)
    return _svg_response(drawings.genogram_svg(case))


@case_view
@require_http_methods(["GET"])
def ecomap(request, pk: int):
    """The household's ecomap as SVG for this viewer (logged as 閲覧)."""
    case = get_case_for_document(request, pk, document="ecomap", action=AccessLog.Action.VIEW)
    return _svg_response(drawings.ecomap_svg(case, viewer_for(request)))


@case_view
@require_http_methods(["GET", "POST"])
def family_edit(request, pk: int):
    """Relatives outside the household and informal supports (the lead organization records them)."""
    case = lead_change_case(request, pk) if request.method == "POST" else get_case_for_user(request, pk)
    which = request.POST.get("form", "")
    relative_form = RelativeForm(request.POST if which == "relative" else None, prefix="relative")
    support_form = SupportTieForm(request.POST if which == "support" else None, prefix="support")
    if request.method == "POST":
        try:
            if which == "relative" and relative_form.is_valid():
                relative_add(case=case, by=request.user, **relative_form.cleaned_data)
                messages.success(request, _("親族を記録しました。"))
                return redirect("casework:family_edit", pk=case.pk)
            if which == "support" and support_form.is_valid():
                support_tie_add(case=case, by=request.user, **support_form.cleaned_data)
                messages.success(request, _("インフォーマルな支えを記録しました。"))
                return redirect("casework:family_edit", pk=case.pk)
            if which in ("relative_remove", "support_remove"):
                target = _family_row(case, which, request.POST.get("id", ""))
                if which == "relative_remove":
                    relative_remove(case=case, relative=target, by=request.user)
                else:
                    support_tie_remove(case=case, tie=target, by=request.user)
                messages.success(request, _("削除しました。"))
                return redirect("casework:family_edit", pk=case.pk)
        except ValidationError as exc:
            (relative_form if which == "relative" else support_form).add_error(None, " ".join(exc.messages))
    return render(
        request,
        "casework/family_edit.html",
        {
            "case": case,
            "relative_form": relative_form,
            "support_form": support_form,
            "relatives": list(case.household.relatives.order_by("id")),
            "supports": list(case.support_ties.order_by("id")),
            "can_edit": is_lead_member(viewer_for(request), case),
        },
    )


def _family_row(case, which: str, raw_id: str):
    pk = object_pk(raw_id)
    rows = case.household.relatives if which == "relative_remove" else case.support_ties
    row = rows.filter(pk=pk).first() if pk else None
    if row is None:
        raise Http404
    return row


@case_view
@require_http_methods(["GET"])
def assessment_sheet(request, pk: int, assessment_pk: int, pdf: bool = False):
    """アセスメントシート: the checklist of its schema version with each answer ticked, and the 所見."""
    case, assessment = get_case_record_for_user(
        request,
        pk,
        Assessment,
        assessment_pk,
        action=document_action(pdf),
        queryset=Assessment.objects.select_related("by"),
    )
    context = assessment_sheet_context(case, assessment) | {"imprint": imprint_for(request, viewer_for(request))}
    return render_document(
        request,
        "casework/print/assessment_sheet.html",
        context,
        pdf=pdf,
        filename=f"アセスメントシート_{case.number}_{assessment.assessed_on:%Y%m%d}.pdf",
    )


@case_view
@require_http_methods(["GET"])
def plan_sheet(request, pk: int, plan_pk: int, pdf: bool = False):
    """プランシート: goals, roles per organization, period, review date, and the person's signature and date."""
    case, plan = get_case_record_for_user(request, pk, SupportPlan, plan_pk, action=document_action(pdf))
    context = plan_sheet_context(case, plan) | {"imprint": imprint_for(request, viewer_for(request))}
    return render_document(
        request,
        "casework/print/plan_sheet.html",
        context,
        pdf=pdf,
        filename=f"支援プラン_{case.number}_第{plan.version}版.pdf",
    )


@case_view
@require_http_methods(["GET"])
def consent_sheet_blank(request, pk: int, person_pk: int, pdf: bool = False):
    """情報共有に関する同意書, printed for the person to read and sign (the lead organization records consents)."""
    case, person = get_case_record_for_user(
        request, pk, Person, person_pk, action=document_action(pdf), purpose=Purpose.LEAD_CHANGE
    )
    context = consent_sheet_context(case, person, None) | {"imprint": imprint_for(request, viewer_for(request))}
    return render_document(
        request, "casework/print/consent_sheet.html", context, pdf=pdf, filename=f"同意書_{case.number}.pdf"
    )


@case_view
@require_http_methods(["GET"])
def consent_sheet(request, pk: int, consent_pk: int, pdf: bool = False):
    """情報共有に関する同意書 as recorded: the choices made, the date, who explained, and its consent id."""
    case, consent = get_case_record_for_user(
        request,
        pk,
        Consent,
        consent_pk,
        action=document_action(pdf),
        queryset=Consent.objects.select_related("person", "explained_by"),
    )
    context = consent_sheet_context(case, consent.person, consent) | {
        "imprint": imprint_for(request, viewer_for(request))
    }
    return render_document(
        request,
        "casework/print/consent_sheet.html",
        context,
        pdf=pdf,
        filename=f"同意書_{case.number}_同意{consent.pk}.pdf",
    )


@case_view
@require_http_methods(["GET"])
def contact_sheet(request, pk: int, pdf: bool = False):
    """支援経過記録 for a chosen period (from / to in 和暦 or 西暦; by default since the case opened)."""
    form = ContactPeriodForm(request.GET or None)
    if request.GET and not form.is_valid():
        case = get_case_for_user(request, pk)
        return render(request, "casework/contact_period.html", {"case": case, "form": form}, status=400)
    case = get_case_for_document(request, pk, document="contact_records", action=document_action(pdf))
    start, end = form.period(default_start=contact_default_start(case))
    context = contact_sheet_context(case, start, end) | {"imprint": imprint_for(request, viewer_for(request))}
    return render_document(
        request,
        "casework/print/contact_sheet.html",
        context,
        pdf=pdf,
        filename=f"支援経過記録_{case.number}_{start:%Y%m%d}-{end:%Y%m%d}.pdf",
    )
