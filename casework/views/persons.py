"""Persons, the household and its members, edited from a case."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from casework import selectors
from casework.access import (
    get_case_record_for_user,
    sees_secret_addresses,
)
from casework.disclosure import Purpose
from casework.forms import (
    HouseholdForm,
    MemberEditForm,
    MemberEndForm,
    MemberForm,
    PersonEditForm,
)
from casework.models import (
    HouseholdMember,
    Person,
)
from casework.services.intake import case_member_join
from casework.services.persons import (
    MEMBER_FIELDS,
    household_member_end,
    household_member_update,
    household_update,
    person_update,
)
from casework.viewers import viewer_for
from casework.views.common import case_view, form_page, lead_change_case, posted_action
from casework.views.intake import resolve_duplicates
from core.japanese import with_honorific


@case_view
@require_http_methods(["GET", "POST"])
def member_add(request, pk: int):
    """Add a member to the case's household (optionally naming them a subject)."""
    viewer = viewer_for(request)
    case = lead_change_case(request, pk)
    form = MemberForm(request.POST or None, prefix="p1")
    form.duplicates = []
    if request.method == "POST" and form.is_valid():
        links, needs_choice = resolve_duplicates(request, viewer, [form])
        if not needs_choice and not form.errors:
            try:
                case_member_join(case=case, member=form.new_member(links[0]), by=request.user)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("世帯員を追加しました。"))
                return redirect(case)
    return form_page(request, case, "casework/member_form.html", form)


@case_view
@require_http_methods(["GET", "POST"])
def person_edit(request, pk: int, person_pk: int):
    """Change a subject or household member of the case; a 住所秘匿 address stays with the lead organization."""
    case, person = get_case_record_for_user(
        request, pk, Person, person_pk, action=posted_action(request), purpose=Purpose.LEAD_CHANGE
    )
    form = PersonEditForm(
        request.POST or None, person=person, show_address=sees_secret_addresses(viewer_for(request), case)
    )
    if request.method == "POST" and form.is_valid():
        try:
            person_update(person=person, by=request.user, case=case, **form.person_data())
        except ValidationError as exc:
            form.add_error(None, " ".join(exc.messages))
        else:
            messages.success(
                request, _("%(name)sの情報を保存しました。") % {"name": with_honorific(person.display_name)}
            )
            return redirect(case)
    return form_page(request, case, "casework/person_form.html", form, person=person)


@case_view
@require_http_methods(["GET", "POST"])
def household_edit(request, pk: int):
    """Change the household's name, tags and note; list its members (past ones too) with their edit links."""
    case = lead_change_case(request, pk)
    household = case.household
    form = HouseholdForm(
        request.POST or None, initial={"name": household.name, "tags": household.tags, "note": household.note}
    )
    if request.method == "POST" and form.is_valid():
        try:
            household_update(household=household, by=request.user, case=case, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, " ".join(exc.messages))
        else:
            messages.success(request, _("世帯の情報を保存しました。"))
            return redirect(case)
    members = selectors.household_members(household.pk)
    return form_page(request, case, "casework/household_form.html", form, members=members)


@case_view
@require_http_methods(["GET", "POST"])
def household_member_edit(request, pk: int, member_pk: int):
    """Change a member's 続柄 and 同居/別居, or record the day they left the household (the row stays)."""
    case, member = get_case_record_for_user(
        request,
        pk,
        HouseholdMember,
        member_pk,
        action=posted_action(request),
        purpose=Purpose.LEAD_CHANGE,
        queryset=HouseholdMember.objects.select_related("person"),
    )
    which = request.POST.get("form")
    form = MemberEditForm(
        request.POST if which == "member" else None,
        initial={name: getattr(member, name) for name in MEMBER_FIELDS},
    )
    end_form = MemberEndForm(request.POST if which == "end" else None)
    if request.method == "POST":
        try:
            if which == "member" and form.is_valid():
                household_member_update(member=member, by=request.user, case=case, **form.cleaned_data)
                messages.success(request, _("続柄・同居の情報を保存しました。"))
                return redirect("casework:household_edit", pk=case.pk)
            if which == "end" and end_form.is_valid():
                household_member_end(member=member, until=end_form.cleaned_data["until"], by=request.user, case=case)
                messages.success(request, _("世帯から外れたことを記録しました（記録は残ります）。"))
                return redirect("casework:household_edit", pk=case.pk)
        except ValidationError as exc:
            (end_form if which == "end" else form).add_error(None, " ".join(exc.messages))
    return form_page(request, case, "casework/household_member_form.html", form, member=member, end_form=end_form)
