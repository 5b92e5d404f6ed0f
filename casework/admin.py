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
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from casework.accounts.sessions import user_end_sessions
from casework.choices import Domain
from casework.models import AccessLog, Membership, MembershipEvent, MembershipGrant, Organization
from casework.services.memberships import (
    membership_end,
    membership_end_cancel,
    membership_grant_approve,
    membership_grant_problems,
    membership_grant_reject,
    membership_grant_request,
    membership_schedule_end,
    user_deactivate,
)
from casework.viewers import viewer_for
from core.forms import CleanTextForm, WarekiDateField
from core.japanese import format_wareki


def _is_administrator(request) -> bool:
    """Admin permissions follow an active administrator membership, never model permissions alone."""
    return viewer_for(request).is_administrator


_site_has_permission = admin.site.has_permission


def _admin_site_permission(request) -> bool:
    """The admin site opens only to a membership holding today (a staff flag left by an ended one is not enough)."""
    return _site_has_permission(request) and (request.user.is_superuser or _is_administrator(request))


admin.site.has_permission = _admin_site_permission


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
    fields = ["user", "role", "title", "starts_on", "ends_on", "is_active", "created_at"]
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


class MembershipEventInline(admin.TabularInline):
    """The membership's history: started, end date set or withdrawn, ended; each with its reason."""

    model = MembershipEvent
    extra = 0
    fields = ["at", "kind", "effective_on", "reason", "by"]
    readonly_fields = fields
    can_delete = False
    verbose_name_plural = _("履歴")

    def has_view_permission(self, request, obj=None):
        return _is_administrator(request)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MembershipEndForm(CleanTextForm):
    ends_on = WarekiDateField(
        label=_("終了日（この日から無効）"),
        help_text=_("例: 令和9年4月1日（4月1日付の異動なら4月1日）。今日の日付なら直ちに終了します。"),
    )
    reason = forms.CharField(label=_("終了の理由"), max_length=300, help_text=_("例: 人事異動（福祉課へ）、退職"))


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Memberships are shown here and ended here; they are granted through 権限付与の申請."""

    list_display = ["user", "organization", "role", "title", "starts_on", "ends_on", "state", "created_at"]
    list_filter = ["role", "is_active", "organization__kind"]
    search_fields = ["user__username", "user__last_name", "user__first_name", "organization__name"]
    fields = ["user", "organization", "role", "title", "starts_on", "ends_on", "end_reason", "is_active", "created_at"]
    readonly_fields = fields
    actions = ["end_memberships"]
    inlines = [MembershipEventInline]

    @admin.display(description=_("状態"))
    def state(self, obj):
        return obj.state_label

    def get_urls(self):
        end = path(
            "<path:object_id>/end/",
            self.admin_site.admin_view(self.end_view),
            name="casework_membership_end",
        )
        return [end, *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        membership = self.get_object(request, object_id)
        extra_context = {**(extra_context or {})}
        if membership is not None and membership.is_active and self.has_end_permission(request):
            extra_context["end_url"] = reverse("admin:casework_membership_end", args=[membership.pk])
        return super().change_view(request, object_id, form_url, extra_context)

    def end_view(self, request, object_id):
        """Set a membership's end date (today: ends at once) with a reason, or withdraw a scheduled end."""
        if not self.has_end_permission(request):
            raise PermissionDenied
        membership = (
            get_object_or_404(Membership.objects.select_related("user", "organization"), pk=object_id)
            if str(object_id).isdigit()
            else None
        )
        if membership is None:
            return HttpResponseRedirect(reverse("admin:casework_membership_changelist"))
        change_url = reverse("admin:casework_membership_change", args=[membership.pk])
        form = MembershipEndForm(request.POST or None, initial={"ends_on": membership.ends_on})
        if request.method == "POST" and request.POST.get("cancel_end"):
            try:
                membership_end_cancel(membership=membership, by=request.user, reason=request.POST.get("reason", ""))
            except ValidationError as error:
                self.message_user(request, _messages_of(error), messages.ERROR)
            else:
                self.message_user(request, _t("終了予定を取り消しました。"), messages.SUCCESS)
            return HttpResponseRedirect(change_url)
        if request.method == "POST" and form.is_valid():
            try:
                membership_schedule_end(
                    membership=membership,
                    on=form.cleaned_data["ends_on"],
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                )
            except ValidationError as error:
                if hasattr(error, "error_dict"):
                    for field, errors in error.error_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    form.add_error(None, error)
            else:
                membership.refresh_from_db()
                if membership.is_active:
                    text = _t("終了日を設定しました。%(day)s から、この所属ではどの画面も開けなくなります。")
                    self.message_user(request, text % {"day": format_wareki(membership.ends_on)}, messages.SUCCESS)
                else:
                    self.message_user(
                        request, _t("所属を終了しました。利用者のセッションも終了しました。"), messages.SUCCESS
                    )
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": _t("所属の終了日を設定する"),
            "membership": membership,
            "form": form,
            "change_url": change_url,
            "opts": self.model._meta,
            "scheduled": membership.is_active and membership.ends_on is not None,
        }
        return TemplateResponse(request, "admin/casework/membership/end_form.html", context)

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
            membership_end(membership=membership, by=request.user, reason=_t("管理画面の一括操作で終了"))
            ended += 1
        self.message_user(request, _t("%(count)d 件の所属を終了しました。") % {"count": ended})


class MembershipGrantForm(forms.ModelForm):
    """Ask for a role for a user; the checks are the service's, so the form answers in Japanese first."""

    starts_on = WarekiDateField(label=_("開始日"), required=False)

    class Meta:
        model = MembershipGrant
        fields = ["user", "organization", "role", "title", "starts_on", "reason"]
        help_texts = {
            "starts_on": _("空欄なら承認と同時に有効になります。4月1日付の異動なら 4月1日 を入れます。"),
            "reason": _("承認する管理者が確認できるよう、異動・着任などの理由を書いてください。"),
        }

    def clean(self):
        data = super().clean()
        user, organization, role = data.get("user"), data.get("organization"), data.get("role")
        starts_on = data.get("starts_on")
        if starts_on is not None and starts_on < timezone.localdate():
            self.add_error("starts_on", _t("開始日に過去の日付は指定できません。"))
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
        "starts_on",
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
        "starts_on",
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
            starts_on=data.get("starts_on"),
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
