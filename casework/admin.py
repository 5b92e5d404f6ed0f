from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from casework.choices import Domain
from casework.models import AccessLog, Membership, Organization
from casework.sessions import user_end_sessions


class OrganizationForm(forms.ModelForm):
    domains = forms.MultipleChoiceField(
        label=_("対応分野"), choices=Domain.choices, required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Organization
        fields = ["name", "short_name", "kind", "domains", "phone", "email", "address", "is_active"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    form = OrganizationForm
    list_display = ["name", "kind", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "short_name"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "is_active"]
    list_filter = ["role", "is_active", "organization__kind"]
    search_fields = ["user__username", "user__last_name", "user__first_name", "organization__name"]
    autocomplete_fields = ["user", "organization"]


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
    """Django's user admin plus ending a user's sessions and open WebSockets."""

    actions = ["end_sessions"]
    list_display = ["username", "last_name", "first_name", "is_active", "last_login"]

    @admin.action(description=_("選択した利用者のセッションを終了する（強制ログアウト）"))
    def end_sessions(self, request, queryset):
        ended = sum(user_end_sessions(user=user) for user in queryset)
        self.message_user(request, _("%(count)d 件のセッションを終了しました。") % {"count": ended})


admin.site.unregister(User)
admin.site.register(User, StaffUserAdmin)
