"""名寄せ screens: a person's candidates, link and merge requests, agreement, unlink and unmerge."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from casework import selectors
from casework.access import (
    get_case_person_for_user,
    get_person_in_reach_for_user,
    get_person_match_for_user,
    log_match_candidates,
    log_match_list,
)
from casework.forms import PersonMatchReasonForm, PersonMatchRequestForm
from casework.models import AccessLog, PersonMatch
from casework.services.person_matches import (
    person_match_agree,
    person_match_request,
    person_match_undo,
    person_match_withdraw,
)
from casework.viewers import viewer_for
from casework.views.common import case_view


def _person_page(request, case, person, *, form=None, status=200):
    viewer = viewer_for(request)
    candidates = selectors.person_match_candidates(viewer, person)
    log_match_candidates(request, case, person, candidates)
    return render(
        request,
        "casework/person_matches.html",
        {
            "case": case,
            "person": person,
            "candidates": candidates,
            "matches": selectors.person_matches_of(viewer, person),
            "form": form,
            "failed_other": form.data.get("other") if form is not None else None,
        },
        status=status,
    )


@case_view
@require_http_methods(["GET"])
def person_matches(request, pk: int, person_pk: int):
    """List the records that may be the same person, within the viewer's reach, and this person's links and merges."""
    case, person = get_case_person_for_user(request, pk, person_pk)
    if person.redirected_from is not None:
        messages.info(request, _("この記録は統合されています。統合先の記録を表示します。"))
        return redirect("casework:person_matches", case.pk, person.pk)
    return _person_page(request, case, person)


@case_view
@require_POST
def person_match_new(request, pk: int, person_pk: int):
    """Ask to link this person with a candidate, or to merge the two (the other organizations agree later)."""
    case, person = get_case_person_for_user(request, pk, person_pk, action=AccessLog.Action.CHANGE)
    form = PersonMatchRequestForm(request.POST)
    if not form.is_valid():
        return _person_page(request, case, person, form=form, status=400)
    other = get_person_in_reach_for_user(request, form.cleaned_data["other"])
    keep_other = form.cleaned_data["kind"] == "merge" and form.cleaned_data.get("keep") == "other"
    survivor, merged = (other, person) if keep_other else (person, other)
    try:
        match = person_match_request(
            kind=form.cleaned_data["kind"],
            survivor=survivor,
            merged=merged,
            reason=form.cleaned_data["reason"],
            by=request.user,
        )
    except ValidationError as exc:
        form.add_error(None, " ".join(exc.messages))
        return _person_page(request, case, person, form=form, status=400)
    if match.state == PersonMatch.State.DONE:
        messages.success(request, _("%(kind)sを行いました。") % {"kind": match.get_kind_display()})
    else:
        messages.success(
            request,
            _("%(kind)sを申請しました。他の主担当機関の同意を待っています。") % {"kind": match.get_kind_display()},
        )
    return redirect("casework:person_match", match.pk)


@case_view
@require_http_methods(["GET"])
def person_match_list(request):
    """The requests waiting for the agreement of the viewer's organization."""
    waiting = selectors.person_matches_waiting(viewer_for(request))
    log_match_list(request, waiting)
    return render(request, "casework/person_match_list.html", {"waiting": waiting})


def _match_page(request, match, *, form=None, status=200):
    agreements = list(match.agreements.select_related("organization", "agreed_by").order_by("agreed_at"))
    agreed = {a.organization_id for a in agreements}
    required = list(match.required_organizations.order_by("pk"))
    viewer = viewer_for(request)
    mine = selectors.case_organization_ids_of(viewer)
    return render(
        request,
        "casework/person_match.html",
        {
            "match": match,
            "agreements": agreements,
            "waiting_for": [o for o in required if o.pk not in agreed],
            "can_agree": match.is_open and any(o.pk in mine and o.pk not in agreed for o in required),
            "can_end": any(o.pk in mine for o in required),
            "records": selectors.person_match_records(viewer, match),
            "form": form or PersonMatchReasonForm(),
        },
        status=status,
    )


@case_view
@require_http_methods(["GET"])
def person_match(request, pk: int):
    """One link or merge: both records, who must agree, who did, and the buttons to agree, withdraw or undo."""
    match = get_person_match_for_user(request, pk)
    return _match_page(request, match)


def _match_action(request, pk, service, done_message):
    match = get_person_match_for_user(request, pk, action=AccessLog.Action.CHANGE)
    form = PersonMatchReasonForm(request.POST) if service is not person_match_agree else None
    if form is not None and not form.is_valid():
        return _match_page(request, match, form=form, status=400)
    try:
        if form is None:
            service(match=match, by=request.user)
        else:
            service(match=match, reason=form.cleaned_data["reason"], by=request.user)
    except ValidationError as exc:
        form = form or PersonMatchReasonForm()
        form.add_error(None, " ".join(exc.messages))
        match.refresh_from_db()
        return _match_page(request, match, form=form, status=400)
    messages.success(request, done_message)
    return redirect(reverse("casework:person_match", args=[match.pk]))


@case_view
@require_POST
def person_match_agree_view(request, pk: int):
    """Agree for the viewer's organization; the last agreement carries the link or merge out."""
    return _match_action(request, pk, person_match_agree, _("同意を記録しました。"))


@case_view
@require_POST
def person_match_withdraw_view(request, pk: int):
    """Withdraw (or decline) a request still waiting for agreements."""
    return _match_action(request, pk, person_match_withdraw, _("申請を取り下げました。"))


@case_view
@require_POST
def person_match_undo_view(request, pk: int):
    """Unlink, or unmerge (every moved reference goes back to the other record)."""
    return _match_action(request, pk, person_match_undo, _("名寄せを取り消しました。"))
