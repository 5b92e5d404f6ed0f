"""The admin site: accounts, organizations and roles, changed only through the casework services.

Administrators administer and never read: no superuser flag, group or raw permission is offered;
roles are granted by two administrators (membership_grant_request, then membership_grant_approve by
another one) and ended with membership_end, each step in the access log.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from casework.accounts.sessions import user_end_sessions
from casework.choices import Domain
from casework.models import AccessLog, Membership, MembershipGrant, Organization
from casework.services.memberships import (
    membership_end,
    membership_grant_approve,
    membership_grant_problems,
    membership_grant_reject,
    membership_grant_request,
    user_deactivate,
)
from casework.viewers import viewer_for


def _is_administrator(request) -> bool:
    """Admin permissions follow an active administrator membership, never model permissions alone."""
    return viewer_for(request).is_administrator


def _messages_of(error: ValidationError) -> str:
    return " ".join(error.messages)


class OrganizationForm(forms.ModelForm):
    domains = forms.MultipleChoiceField(
        label=_("対応分野"), choices=Domain.choices, required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Organization
        fields = ["name", "short_name", "kind", "domains", "phone", "email", "address", "is_active"]


class MembershipInline(admin.TabularInline):
    """The organization's members, read only: roles are granted and ended on their own screens."""

    model = Membership
    extra = 0
    fields = ["user", "role", "title", "is_active", "created_at"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    form = OrganizationForm
    list_display = ["name", "kind", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "short_name"]
    inlines = [MembershipInline]

    def has_delete_permission(self, request, obj=None):
        # Deleting would delete its memberships behind the services' back: deactivate it instead.
        return False


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Memberships are shown here and ended here; they are granted through 権限付与の申請."""

    list_display = ["user", "organization", "role", "title", "is_active", "created_at"]
    list_filter = ["role", "is_active", "organization__kind"]
    search_fields = ["user__username", "user__last_name", "user__first_name", "organization__name"]
    fields = ["user", "organization", "role", "title", "is_active", "created_at"]
    readonly_fields = fields
    actions = ["end_memberships"]

    def has_module_permission(self, request):
        return _is_administrator(request)

    def has_view_permission(self, request, obj=None):
        return _is_administrator(request)

    def has_add_permission(self, request):
        # A new role is a grant request that a second administrator approves (MembershipGrantAdmin).
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_end_permission(self, request):
        return _is_administrator(request)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "grant_add_url": reverse("admin:casework_membershipgrant_add")}
        return super().changelist_view(request, extra_context)

    @admin.action(description=_("選択した所属を終了する（すべての画面と接続から直ちに外れます）"), permissions=["end"])
    def end_memberships(self, request, queryset):
        ended = 0
        for membership in queryset.filter(is_active=True).select_related("user"):
            membership_end(membership=membership, by=request.user)
            ended += 1
        self.message_user(request, _t("%(count)d 件の所属を終了しました。") % {"count": ended})


class MembershipGrantForm(forms.ModelForm):
    """Ask for a role for a user; the checks are the service's, so the form answers in Japanese first."""

    class Meta:
        model = MembershipGrant
        fields = ["user", "organization", "role", "title", "reason"]
        help_texts = {
            "reason": _("承認する管理者が確認できるよう、異動・着任などの理由を書いてください。"),
        }

    def clean(self):
        data = super().clean()
        user, organization, role = data.get("user"), data.get("organization"), data.get("role")
        if user is not None and organization is not None and role:
            for problem in membership_grant_problems(user=user, organization=organization, role=role):
                self.add_error(None, problem)
        return data


@admin.register(MembershipGrant)
class MembershipGrantAdmin(admin.ModelAdmin):
    """権限付与の申請: one administrator asks, another approves or rejects; both steps are logged."""

    form = MembershipGrantForm
    list_display = [
        "requested_at",
        "user",
        "organization",
        "role",
        "status",
        "requested_by",
        "decided_by",
        "decided_at",
    ]
    list_filter = ["status", "role"]
    search_fields = ["user__username", "user__last_name", "user__first_name", "organization__name"]
    autocomplete_fields = ["user", "organization"]
    actions = ["approve_selected", "reject_selected"]
    readonly_view_fields = [
        "user",
        "organization",
        "role",
        "title",
        "reason",
        "status",
        "requested_by",
        "requested_at",
        "decided_by",
        "decided_at",
        "decision_note",
        "membership",
    ]

    def has_module_permission(self, request):
        return _is_administrator(request)

    def has_view_permission(self, request, obj=None):
        return _is_administrator(request)

    def has_add_permission(self, request):
        return _is_administrator(request)

    def has_change_permission(self, request, obj=None):
        # A request is never edited: it is approved or rejected (decide_view).
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_decide_permission(self, request):
        return _is_administrator(request)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Roles go to active, ordinary accounts of active organizations only.
        if db_field.name == "user":
            kwargs["queryset"] = User.objects.filter(is_active=True, is_superuser=False)
        elif db_field.name == "organization":
            kwargs["queryset"] = Organization.objects.filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_fields(self, request, obj=None):
        return self.readonly_view_fields if obj is not None else super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_view_fields if obj is not None else []

    def get_urls(self):
        decide = path(
            "<path:object_id>/decide/",
            self.admin_site.admin_view(self.decide_view),
            name="casework_membershipgrant_decide",
        )
        return [decide, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        # The screen opens on what waits for a decision: 承認待ちの権限付与.
        if not request.GET and request.method == "GET":
            return HttpResponseRedirect(f"{request.path}?status__exact={MembershipGrant.Status.PENDING}")
        pending = request.GET.get("status__exact") == MembershipGrant.Status.PENDING
        extra_context = {**(extra_context or {})}
        if pending:
            extra_context["title"] = _t("承認待ちの権限付与")
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        grant = self.get_object(request, object_id)
        extra_context = {**(extra_context or {})}
        if grant is not None and grant.status == MembershipGrant.Status.PENDING and self.has_decide_permission(request):
            extra_context["decide_url"] = reverse("admin:casework_membershipgrant_decide", args=[grant.pk])
            extra_context["own_request"] = grant.requested_by_id == request.user.pk
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        """Create the request through the service (never a bare save); place staff are given at once."""
        data = form.cleaned_data
        grant = membership_grant_request(
            user=data["user"],
            organization=data["organization"],
            role=data["role"],
            title=data.get("title", ""),
            reason=data["reason"],
            by=request.user,
        )
        obj.pk = grant.pk
        obj.status = grant.status
        obj._state.adding = False

    def response_add(self, request, obj, post_url_continue=None):
        if obj.status == MembershipGrant.Status.APPLIED:
            self.message_user(request, _t("役割を付与しました（この役割は承認不要です）。"), messages.SUCCESS)
        else:
            self.message_user(
                request,
                _t("権限付与を申請しました。別のシステム管理者が承認するまで、この役割は有効になりません。"),
                messages.SUCCESS,
            )
        return HttpResponseRedirect(reverse("admin:casework_membershipgrant_changelist"))

    def decide_view(self, request, object_id):
        """Approve or reject one pending request (POST only)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_decide_permission(request):
            raise PermissionDenied
        grant = get_object_or_404(MembershipGrant, pk=object_id) if str(object_id).isdigit() else None
        if grant is None:
            return HttpResponseRedirect(reverse("admin:casework_membershipgrant_changelist"))
        decision = request.POST.get("decision")
        note = request.POST.get("note", "")
        if decision == "approve":
            self._decide(request, [grant], approve=True, note=note)
        elif decision == "reject":
            self._decide(request, [grant], approve=False, note=note)
        else:
            self.message_user(request, _t("承認か却下を選んでください。"), messages.ERROR)
        return HttpResponseRedirect(reverse("admin:casework_membershipgrant_changelist"))

    def _decide(self, request, grants, *, approve: bool, note: str = "") -> None:
        done = 0
        for grant in grants:
            try:
                if approve:
                    membership_grant_approve(grant=grant, by=request.user, note=note)
                else:
                    membership_grant_reject(grant=grant, by=request.user, note=note)
                done += 1
            except ValidationError as error:
                self.message_user(request, f"{grant}: {_messages_of(error)}", messages.ERROR)
        if done:
            text = _t("%(count)d 件を承認しました。") if approve else _t("%(count)d 件を却下しました。")
            self.message_user(request, text % {"count": done}, messages.SUCCESS)

    @admin.action(description=_("選択した申請を承認する"), permissions=["decide"])
    def approve_selected(self, request, queryset):
        self._decide(request, list(queryset.order_by("id")), approve=True)

    @admin.action(description=_("選択した申請を却下する（自分の申請は取下げ）"), permissions=["decide"])
    def reject_selected(self, request, queryset):
        self._decide(request, list(queryset.order_by("id")), approve=False)


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    """Read-only: the log is reviewed on the auditor screens; administrators only see its shape."""

    list_display = ["at", "actor_username", "action", "object_type", "object_id", "outcome"]

    def has_module_permission(self, request):
        return False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class StaffUserAdmin(UserAdmin):
    """Accounts without superuser, staff, groups or raw permissions; deactivation goes through the service."""

    actions = ["end_sessions"]
    list_display = ["username", "last_name", "first_name", "is_active", "last_login"]
    list_filter = ["is_active"]
    filter_horizontal = ()
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("氏名・連絡先"), {"fields": ("last_name", "first_name", "email")}),
        (_("状態"), {"fields": ("is_active",)}),
        (_("日時"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "usable_password", "password1", "password2")}),
        (_("氏名・連絡先"), {"classes": ("wide",), "fields": ("last_name", "first_name", "email")}),
    )
    readonly_fields = ["last_login", "date_joined"]

    def get_queryset(self, request):
        """Hide superuser accounts from administrators: they are not edited through the admin."""
        queryset = super().get_queryset(request)
        if not request.user.is_superuser:
            queryset = queryset.filter(is_superuser=False)
        return queryset

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        # The access log refers to accounts: they are deactivated, never deleted.
        return False

    def save_model(self, request, obj, form, change):
        if change and "is_active" in form.changed_data and not obj.is_active:
            user_deactivate(user=obj, by=request.user)
            return
        super().save_model(request, obj, form, change)

    @admin.action(description=_("選択した利用者のセッションを終了する（強制ログアウト）"))
    def end_sessions(self, request, queryset):
        ended = sum(user_end_sessions(user=user) for user in queryset)
        self.message_user(request, _t("%(count)d 件のセッションを終了しました。") % {"count": ended})


admin.site.unregister(User)
admin.site.register(User, StaffUserAdmin)
# Groups carry organizations' object permissions and the administrators' model permissions: editing
# them by hand would grant access past the services and the two-person rule.
admin.site.unregister(Group)
