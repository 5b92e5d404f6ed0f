"""What every case screen shares: the caseworker-only guard, the change checks and the conflict page."""

from __future__ import annotations

import functools
import json

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render

from casework.access import (
    get_case_for_lead_member,
    get_case_for_user,
    person_ids_for_case,
)
from casework.models import (
    AccessLog,
    Case,
    Person,
)
from casework.services.common import CaseChanged
from casework.viewers import viewer_for

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


def wants_json(request) -> bool:
    return bool(getattr(request, "htmx", False)) or "application/json" in request.headers.get("Accept", "")


def case_people(case: Case) -> list[Person]:
    return list(Person.objects.filter(pk__in=person_ids_for_case(case)).order_by("id"))


def form_page(request, case, template, form, **extra):
    return render(request, template, {"case": case, "form": form, **extra})


def change_case(request, pk) -> Case:
    """Fetch the case for a change screen: GET logs a view, POST logs a change."""
    action = AccessLog.Action.CHANGE if request.method == "POST" else AccessLog.Action.VIEW
    return get_case_for_user(request, pk, action=action, for_change=True)


def lead_change_case(request, pk) -> Case:
    """Fetch the case for a screen only its lead organization uses (team, state, persons, consents)."""
    return get_case_for_lead_member(request, pk, action=posted_action(request))


def posted_action(request) -> str:
    return AccessLog.Action.CHANGE if request.method == "POST" else AccessLog.Action.VIEW


def conflict_page(request, case, exc: CaseChanged):
    """Answer a stale form: 409 with JSON for htmx / API callers, else the case page with the message."""
    if wants_json(request):
        return HttpResponse(
            json.dumps({"error": "conflict", "message": exc.message}, ensure_ascii=False),
            status=409,
            content_type="application/json",
        )
    messages.error(request, exc.message)
    return redirect(case)
