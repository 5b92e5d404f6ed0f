"""The second factor (TOTP with recovery codes): who needs it and the half-signed-in gate."""

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse
from django_otp import user_has_device

from casework.choices import Role
from casework.models import Membership
from casework.viewers import viewer_for

# Roles whose accounts can see the whole log or manage accounts (every one, or an organization's): always a second factor.
ROLES_REQUIRING_SECOND_FACTOR = {Role.AUDITOR, Role.ADMINISTRATOR, Role.ORG_ADMIN}


def second_factor_required(user, *, roles: set[str] | None = None) -> bool:
    """Say whether this signed-in user must pass a second factor before anything else.

    `roles` are the user's active membership roles when the caller already has them.
    """
    if not user.is_authenticated:
        return False
    if settings.SECOND_FACTOR_FOR_ALL or user.is_superuser:
        return True
    if roles is not None:
        return bool(set(roles) & ROLES_REQUIRING_SECOND_FACTOR)
    return Membership.objects.filter(user=user, is_active=True, role__in=ROLES_REQUIRING_SECOND_FACTOR).exists()


def second_factor_satisfied(user, *, roles: set[str] | None = None) -> bool:
    """Say whether the user may proceed: no second factor needed, or it was verified this session."""
    if not user.is_authenticated:
        return False
    verified = getattr(user, "is_verified", None)
    if callable(verified) and verified():
        return True
    return not second_factor_required(user, roles=roles)


class SecondFactorMiddleware:
    """Keep a half-signed-in session (password done, code pending) away from every page but the gate."""

    OPEN_URL_NAMES = ("second_factor_verify", "second_factor_setup", "logout")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        # The request's Viewer caches the memberships, so navigation and this check share one query.
        # Every hat counts, not only the one worn now: an auditor who also works cases always needs the code.
        roles = {m.role for m in viewer_for(request).all_memberships} if user.is_authenticated else set()
        if user.is_authenticated and not second_factor_satisfied(user, roles=roles):
            open_paths = {reverse(name) for name in self.OPEN_URL_NAMES}
            if request.path not in open_paths and not request.path.startswith(settings.STATIC_URL):
                target = "second_factor_verify" if user_has_device(user, confirmed=True) else "second_factor_setup"
                return redirect(reverse(target))
        return self.get_response(request)
