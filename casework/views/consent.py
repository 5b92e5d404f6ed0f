"""Consent records: recording, withdrawing and downloading the signed form."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from casework.access import (
    get_case_record_for_user,
)
from casework.disclosure import Purpose
from casework.forms import (
    ConsentForm,
    WithdrawForm,
)
from casework.models import (
    AccessLog,
    Consent,
)
from casework.services.consent import consent_record, consent_withdraw
from casework.views.common import case_people, case_view, form_page, lead_change_case


@case_view
@require_http_methods(["GET", "POST"])
def consent_create(request, pk: int):
    """Record a consent (or refusal) for one person of the case."""
    case = lead_change_case(request, pk)
    people = case_people(case)
    form = ConsentForm(request.POST or None, request.FILES or None, people=people, lead=case.lead_organization)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        person = next(p for p in people if p.pk == data["person"])
        organizations = list(data["organizations"])
        lead_added = False
        if data["scope_kind"] == Consent.ScopeKind.NAMED and organizations:
            # The lead organization holds the case: a named scope never leaves it out silently.
            if all(org.pk != case.lead_organization_id for org in organizations):
                organizations.append(case.lead_organization)
                lead_added = True
        try:
            consent_record(
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
            if lead_added:
                messages.info(
                    request, _("提供先に主担当機関（%(org)s）を加えました。") % {"org": case.lead_organization.name}
                )
            return redirect(case)
    return form_page(request, case, "casework/consent_form.html", form)


@case_view
@require_http_methods(["GET", "POST"])
def consent_withdraw_view(request, pk: int, consent_pk: int):
    """Record the withdrawal of a consent."""
    action = AccessLog.Action.CHANGE if request.method == "POST" else AccessLog.Action.VIEW
    case, consent = get_case_record_for_user(
        request, pk, Consent, consent_pk, action=action, purpose=Purpose.LEAD_CHANGE
    )
    form = WithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            consent_withdraw(
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
    return form_page(request, case, "casework/withdraw_form.html", form, consent=consent)


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
