"""Intake: a new consultation with its household, duplicate checks and the case it opens."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from casework.access import (
    CASE_ROLES,
    possible_duplicates_for_user,
)
from casework.forms import (
    IntakeForm,
    MemberForm,
)
from casework.services.intake import intake_open
from casework.viewers import viewer_for
from casework.views.common import case_view


def _member_forms(request, count: int):
    data = request.POST if request.method == "POST" else None
    forms = []
    for i in range(1, count + 1):
        form = MemberForm(data, prefix=f"p{i}", empty_permitted=i > 1, use_required_attribute=i == 1)
        if i == 1:
            form.fields["relationship"].initial = "self"
        forms.append(form)
    return forms


def resolve_duplicates(request, viewer, forms) -> tuple[list, bool]:
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
        links, needs_choice = resolve_duplicates(request, viewer, members) if valid else ([], False)
        if valid and not needs_choice and not any(f.errors for f in members):
            try:
                data = intake.cleaned_data
                case = intake_open(
                    by=request.user,
                    household_name=data["household_name"],
                    tags=data["tags"],
                    members=[
                        form.new_member(link)
                        for form, link in zip(members, links, strict=True)
                        if not (form.is_blank() and link is None)
                    ],
                    domains=data["domains"],
                    categories=data["categories"],
                    main_category=data["main_category"],
                    intake_route=data["intake_route"],
                    lead_organization=data["lead_organization"],
                    summary=data["summary"],
                    opened_on=data["opened_on"],
                )
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
