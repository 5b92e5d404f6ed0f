"""Who is asking: the signed-in user's active memberships and the roles they carry, once per request."""

from functools import cached_property

from casework.choices import Role
from casework.models import Membership


class Viewer:
    """The signed-in user's active memberships and the roles they carry."""

    def __init__(self, user):
        self.user = user

    @cached_property
    def memberships(self) -> list[Membership]:
        if not self.user.is_authenticated or not self.user.is_active:
            return []
        return list(
            # Dates are checked here, at every request: an end date takes effect on its day by itself.
            Membership.objects.active().filter(user=self.user).select_related("organization").order_by("id")
        )

    @cached_property
    def roles(self) -> set[str]:
        return {m.role for m in self.memberships}

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def works_cases(self) -> bool:
        return self.has_role(Role.CASEWORKER, Role.SUPERVISOR)

    @property
    def is_auditor(self) -> bool:
        return self.has_role(Role.AUDITOR)

    @property
    def is_administrator(self) -> bool:
        return self.has_role(Role.ADMINISTRATOR)

    @property
    def is_place_staff(self) -> bool:
        return self.has_role(Role.PLACE_STAFF)

    def organizations(self, *roles: str) -> list:
        """Return the organizations where the user holds any of the roles (all roles if none given)."""
        return [m.organization for m in self.memberships if not roles or m.role in roles]

    def organization_ids(self, *roles: str) -> set[int]:
        return {org.id for org in self.organizations(*roles)}


def viewer_for(request) -> Viewer:
    """Return the request's Viewer, computed once per request."""
    if not hasattr(request, "_viewer"):
        request._viewer = Viewer(request.user)
    return request._viewer
