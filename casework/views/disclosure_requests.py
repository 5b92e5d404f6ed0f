"""開示請求 screens for privacy officers (the auditor role): receive, review third parties, decide, release."""

from __future__ import annotations

from dataclasses import replace

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from casework.access import get_disclosure_request_for_user, log_disclosure_candidates
from casework.disclosure_package import build_package, redact
from casework.forms import DisclosureDecideForm, DisclosureExtendForm, DisclosureOpenForm, DisclosureSearchForm
from casework.models import AccessLog, DisclosureRequest, Person
from casework.paper import imprint_for, render_document
from casework.services.disclosure_requests import (
    disclosure_request_decide,
    disclosure_request_extend,
    disclosure_request_open,
    disclosure_request_review,
)
from casework.viewers import viewer_for
from core.japanese import search_key, to_katakana_reading
from core.spreadsheets import encode_csv


def _require_privacy_officer(request) -> None:
    if not viewer_for(request).is_auditor:
        raise Http404


@require_http_methods(["GET", "POST"])
def request_list(request):
    """Requests with their deadlines; find the requester and receive a new request."""
    _require_privacy_officer(request)
    search = DisclosureSearchForm(request.GET or None)
    candidates: list[Person] = []
    if search.is_valid():
        key = search_key(to_katakana_reading(search.cleaned_data["kana"]))
        candidates = [
            p
            for p in Person.objects.filter(birth_date=search.cleaned_data["birth_date"]).order_by("id")
            if key and p.kana_key.replace(" ", "") == key.replace(" ", "")
        ]
        if candidates:
            log_disclosure_candidates(request, [p.pk for p in candidates])
    open_form = DisclosureOpenForm(request.POST or None, initial={"received_on": timezone.localdate()})
    if request.method == "POST" and open_form.is_valid():
        person = Person.objects.filter(pk=open_form.cleaned_data["person"]).first()
        if person is None:
            raise Http404
        try:
            created = disclosure_request_open(
                person=person,
                received_on=open_form.cleaned_data["received_on"],
                requester=open_form.cleaned_data["requester"],
                by=request.user,
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            return redirect(created)
    requests = DisclosureRequest.objects.order_by("decision", "due_on", "-id")[:200]
    return render(
        request,
        "casework/disclosure/list.html",
        {"search": search, "candidates": candidates, "open_form": open_form, "requests": requests},
    )


def _package(req: DisclosureRequest):
    items = build_package(req.person)
    decisions = {r.item_key: r for r in req.redactions.all()}
    flagged = [i for i in items if i.flags]
    unreviewed = [i for i in flagged if i.key not in decisions]
    return items, flagged, decisions, unreviewed


@require_http_methods(["GET", "POST"])
def request_detail(request, pk: int):
    """One request: deadline and extension, the redaction review, the package preview and the decision."""
    action = request.POST.get("action", "") if request.method == "POST" else ""
    req = get_disclosure_request_for_user(
        request, pk, action=AccessLog.Action.CHANGE if action else AccessLog.Action.VIEW, reason="開示請求の処理"
    )
    extend_form = DisclosureExtendForm(request.POST if action == "extend" else None)
    decide_form = DisclosureDecideForm(
        request.POST if action == "decide" else None, initial={"decided_on": timezone.localdate()}
    )
    items, flagged, decisions, unreviewed = _package(req)
    try:
        if action == "extend" and extend_form.is_valid():
            disclosure_request_extend(
                request=req,
                extended_due_on=extend_form.cleaned_data["extended_due_on"],
                reason=extend_form.cleaned_data["reason"],
                by=request.user,
            )
            messages.success(request, "決定期限を延長しました。")
            return redirect(req)
        if action in {"withhold", "release"}:
            keys = {i.key for i in flagged}
            key = request.POST.get("item_key", "")
            if key not in keys:
                raise Http404
            disclosure_request_review(
                request=req,
                item_key=key,
                withhold=action == "withhold",
                note=request.POST.get("note", ""),
                by=request.user,
            )
            return redirect(f"{req.get_absolute_url()}#review")
        if action == "decide" and decide_form.is_valid():
            disclosure_request_decide(
                request=req,
                decision=decide_form.cleaned_data["decision"],
                decided_on=decide_form.cleaned_data["decided_on"],
                reason=decide_form.cleaned_data["reason"],
                unreviewed=len(unreviewed),
                by=request.user,
            )
            messages.success(request, "開示決定を記録しました。")
            return redirect(req)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    withheld = {k for k, r in decisions.items() if r.withhold}
    rows = [(i, redact(i, withheld), decisions.get(i.key)) for i in items]
    return render(
        request,
        "casework/disclosure/detail.html",
        {
            "req": req,
            "rows": rows,
            "flagged": [(i, decisions.get(i.key)) for i in flagged],
            "unreviewed": len(unreviewed),
            "extend_form": extend_form,
            "decide_form": decide_form,
        },
    )


def _released(request, pk: int):
    """The request and its items as released, or None when they may not be released yet."""
    req = get_disclosure_request_for_user(request, pk, action=AccessLog.Action.EXPORT, reason="開示文書の出力")
    items, _flagged, decisions, unreviewed = _package(req)
    if unreviewed or req.decision == DisclosureRequest.Decision.REFUSED:
        messages.error(request, "未確認の箇所があるか、不開示の決定のため出力できません。")
        return req, None
    withheld = {k for k, r in decisions.items() if r.withhold}
    return req, [replace(i, value=redact(i, withheld)) for i in items]


@require_GET
def request_package_pdf(request, pk: int):
    """The package as released, as an A4 PDF with who printed it and when."""
    req, items = _released(request, pk)
    if items is None:
        return redirect(req)
    context = {"req": req, "rows": items, "imprint": imprint_for(request, viewer_for(request))}
    return render_document(
        request, "casework/print/disclosure_package.html", context, pdf=True, filename=f"開示文書_{req.pk}.pdf"
    )


@require_GET
def request_package_csv(request, pk: int):
    """The package as released: withheld passages masked; only once every flagged passage was reviewed."""
    req, items = _released(request, pk)
    if items is None:
        return redirect(req)
    header = ["区分", "記録", "項目", "内容"]
    body = [[i.section, i.record, i.label, i.value] for i in items]
    data, _replaced = encode_csv(header, body)
    response = HttpResponse(data, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="disclosure-{req.pk}.csv"'
    return response
