"""Break-glass: opening a case outside the caseload in an emergency."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from casework.access import (
    case_access,
    log_break_glass_miss,
)
from casework.forms import (
    BreakGlassForm,
)
from casework.models import (
    Case,
)
from casework.services.break_glass import break_glass_open
from casework.viewers import viewer_for
from casework.views.common import case_view


@case_view
@require_http_methods(["GET", "POST"])
def break_glass(request):
    """Open a case outside one's caseload in an emergency: number and reason first, then 404 or the case."""
    form = BreakGlassForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        number = form.cleaned_data["number"]
        case = Case.objects.filter(number=number).first()
        if case is None:
            log_break_glass_miss(request, number=number, reason=form.cleaned_data["reason"])
            raise Http404
        if case_access(viewer_for(request), case) is not None:
            # Already in the caseload: no emergency needed.
            return redirect(case)
        break_glass_open(user=request.user, case=case, reason=form.cleaned_data["reason"])
        messages.warning(request, _("緊急アクセスを開始しました。閲覧はすべて記録され、監査担当者が確認します。"))
        return redirect(case)
    return render(request, "casework/break_glass.html", {"form": form})
