"""An organization's own administrator (組織管理者): accounts and memberships of that one organization.

Every screen is the organization of the hat worn now; everyone else gets 404. The writes go through
the membership services, which check the same scope again (a tampered POST changes nothing).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from casework.choices import Role
from casework.forms import (
    OrgAccountForm,
    OrgGrantDecideForm,
    OrgGrantForm,
    OrgMembershipEndCancelForm,
    OrgMembershipEndForm,
)
from casework.models import Membership, MembershipGrant, Organization
from casework.selectors import (
    org_admin_accounts,
    org_admin_decided_grants,
    org_admin_memberships,
    org_admin_pending_grants,
)
from casework.services.memberships import (
    ORG_ADMIN_GRANTABLE_ROLES,
    account_create,
    may_manage,
    membership_end_cancel,
    membership_grant_approve,
    membership_grant_reject,
    membership_grant_request,
    membership_schedule_end,
)
from casework.viewers import viewer_for
from core.japanese import staff_name


def _organization(request, *, required: bool = True):
    """The organization administered here: the 組織管理者's own (hat worn now); a system administrator's choice.

    A system administrator names it with ?organization= (any active organization); everyone else gets 404.
    """
    viewer = viewer_for(request)
    if viewer.is_administrator:
        raw = str(request.GET.get("organization") or request.POST.get("organization") or "")
        organization = (
            Organization.objects.filter(pk=int(raw), is_active=True).first()
            if raw.isdigit() and len(raw) < 12
            else None
        )
        if organization is None and required:
            raise Http404
        return organization
    organizations = viewer.organizations(Role.ORG_ADMIN)
    if not organizations:
        raise Http404
    return organizations[0]


def _roles_for(request, organization) -> list[str]:
    """The roles asked for here: place staff for place operators, case roles elsewhere; 組織管理者 by system administrators."""
    if organization.kind == organization.Kind.PLACE_OPERATOR:
        roles = [Role.PLACE_STAFF]
    else:
        roles = [role for role in ORG_ADMIN_GRANTABLE_ROLES if role != Role.PLACE_STAFF]
    if viewer_for(request).is_administrator:
        roles.append(Role.ORG_ADMIN)
    return roles


def _home_url(organization) -> str:
    return f"{reverse('casework:org_admin')}?organization={organization.pk}"


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, problems in error.message_dict.items():
            form.add_error(field if field in form.fields else None, problems)
    else:
        for message in error.messages:
            form.add_error(None, message)


def _granted_message(grant: MembershipGrant) -> str:
    if grant.status == MembershipGrant.Status.PENDING:
        return _("%(name)s さんの「%(role)s」を申請しました。別の管理者の承認で有効になります。") % {
            "name": staff_name(grant.user),
            "role": grant.get_role_display(),
        }
    return _("%(name)s さんに「%(role)s」を付与しました。") % {
        "name": staff_name(grant.user),
        "role": grant.get_role_display(),
    }


@require_http_methods(["GET"])
def org_admin_home(request):
    """The organization's staff: memberships with their dates and state, requests waiting, decisions made."""
    organization = _organization(request, required=False)
    if organization is None:
        # A system administrator chooses the organization first.
        return render(
            request,
            "casework/org_admin/choose.html",
            {"organizations": Organization.objects.filter(is_active=True).order_by("kind", "name")},
        )
    return render(
        request,
        "casework/org_admin/home.html",
        {
            "organization": organization,
            "memberships": org_admin_memberships(organization),
            "pending": org_admin_pending_grants(organization),
            "decided": org_admin_decided_grants(organization),
            "manageable_roles": set(ORG_ADMIN_GRANTABLE_ROLES),
            "is_administrator": viewer_for(request).is_administrator,
        },
    )


@require_http_methods(["GET", "POST"])
def org_admin_account_new(request):
    """Create a staff account of the organization and ask for its first role."""
    organization = _organization(request)
    form = OrgAccountForm(request.POST or None, roles=_roles_for(request, organization))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            grant = account_create(
                username=data["username"],
                last_name=data["last_name"],
                first_name=data["first_name"],
                email=data["email"],
                password=data["password1"],
                organization=organization,
                role=data["role"],
                title=data["title"],
                reason=data["reason"],
                starts_on=data["starts_on"],
                by=request.user,
            )
        except PermissionDenied as error:
            raise Http404 from error
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _granted_message(grant))
            return redirect(_home_url(organization))
    return render(
        request,
        "casework/org_admin/account_form.html",
        {"organization": organization, "form": form},
    )


@require_http_methods(["GET", "POST"])
def org_admin_grant_new(request):
    """Ask for a role in the organization for one of its accounts."""
    organization = _organization(request)
    accounts = [u for u in org_admin_accounts(organization) if u.is_active]
    form = OrgGrantForm(request.POST or None, roles=_roles_for(request, organization), accounts=accounts)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            grant = membership_grant_request(
                user=data["user"],
                organization=organization,
                role=data["role"],
                title=data["title"],
                reason=data["reason"],
                starts_on=data["starts_on"],
                by=request.user,
            )
        except PermissionDenied as error:
            raise Http404 from error
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _granted_message(grant))
            return redirect(_home_url(organization))
    return render(
        request,
        "casework/org_admin/grant_form.html",
        {"organization": organization, "form": form},
    )


@require_POST
def org_admin_grant_decide(request, pk: int):
    """Approve or reject a request of the organization (never one's own request, never a grant to oneself)."""
    viewer = viewer_for(request)
    grants = MembershipGrant.objects.filter(status=MembershipGrant.Status.PENDING).select_related("organization")
    if not viewer.is_administrator:
        grants = grants.filter(organization=_organization(request))
    grant = get_object_or_404(grants, pk=pk)
    home = _home_url(grant.organization)
    form = OrgGrantDecideForm(request.POST)
    if not form.is_valid():
        for field, problems in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for problem in problems:
                messages.error(request, f"{label}: {problem}" if label else problem)
        messages.error(request, _("何も変更していません。"))
        return redirect(home)
    try:
        if form.cleaned_data["decision"] == "approve":
            membership_grant_approve(grant=grant, by=request.user, note=form.cleaned_data["note"])
            messages.success(request, _("承認しました。") + _granted_message_after(grant))
        else:
            membership_grant_reject(grant=grant, by=request.user, note=form.cleaned_data["note"])
            messages.success(request, _("申請を却下（取下げ）しました。何も付与していません。"))
    except PermissionDenied as error:
        raise Http404 from error
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    return redirect(home)


def _granted_message_after(grant: MembershipGrant) -> str:
    return _("%(name)s さんの「%(role)s」が有効になります。") % {
        "name": staff_name(grant.user),
        "role": grant.get_role_display(),
    }


@require_http_methods(["GET", "POST"])
def org_admin_membership(request, pk: int):
    """One membership of the organization: its history, and setting or withdrawing its end date."""
    memberships = Membership.objects.select_related("user", "organization")
    if not viewer_for(request).is_administrator:
        memberships = memberships.filter(organization=_organization(request))
    membership = get_object_or_404(memberships, pk=pk)
    organization = membership.organization
    manageable = may_manage(request.user, organization_id=organization.pk, role=membership.role)
    if request.method == "POST" and not manageable:
        raise Http404
    end_form = OrgMembershipEndForm(request.POST if request.POST.get("action") == "end" else None)
    cancel_form = OrgMembershipEndCancelForm(request.POST if request.POST.get("action") == "cancel" else None)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "end" and end_form.is_valid():
                membership_schedule_end(
                    membership=membership,
                    on=end_form.cleaned_data["ends_on"],
                    reason=end_form.cleaned_data["reason"],
                    by=request.user,
                )
                messages.success(request, _("終了日を設定しました。"))
                return redirect(reverse("casework:org_admin_membership", args=[membership.pk]))
            if request.POST.get("action") == "cancel" and cancel_form.is_valid():
                membership_end_cancel(membership=membership, by=request.user, reason=cancel_form.cleaned_data["reason"])
                messages.success(request, _("終了予定を取り消しました。"))
                return redirect(reverse("casework:org_admin_membership", args=[membership.pk]))
        except PermissionDenied as error:
            raise Http404 from error
        except ValidationError as error:
            target = end_form if request.POST.get("action") == "end" else cancel_form
            _add_errors(target, error)
    return render(
        request,
        "casework/org_admin/membership.html",
        {
            "organization": organization,
            "membership": membership,
            "events": list(membership.events.select_related("by").order_by("at", "id")),
            "manageable": manageable,
            "end_form": end_form,
            "cancel_form": cancel_form,
        },
    )
