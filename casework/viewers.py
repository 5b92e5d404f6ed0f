"""Who is asking: the signed-in user's active membership (the hat they wear now) and its role, once per request.

A user may hold several memberships at once (a 社協 coordinator who also runs a サロン). They act in
one at a time: the active membership, chosen in the header and kept in the session. Everything that
asks "which organization, which role?" (screens, caseloads, inboxes, home panels, the disclosure
module, the access log) reads `Viewer.memberships`, which holds the active one only; the other hats
are in `Viewer.all_memberships` for the switcher. Without a session (a job, a test calling a service)
the first membership by id is the active one.
"""

from functools import cached_property

from casework.audit.context import current_request_context
from casework.choices import Role
from casework.models import Membership

ACTIVE_MEMBERSHIP_KEY = "casework_active_membership"


class Viewer:
    """The signed-in user's active membership and the role it carries (and, for the switcher, the others)."""

    def __init__(self, user, session=None):
        self.user = user
        self.session = session

    @cached_property
    def all_memberships(self) -> list[Membership]:
        """Every membership that holds today (dates checked at every request), ordered by id."""
        if not self.user.is_authenticated or not self.user.is_active:
            return []
        return list(
            # Dates are checked here, at every request: an end date takes effect on its day by itself.
            Membership.objects.active().filter(user=self.user).select_related("organization").order_by("id")
        )

    @cached_property
    def active_membership(self) -> Membership | None:
        """The membership the user acts in now: the one chosen in the session, else the first by id."""
        memberships = self.all_memberships
        if not memberships:
            return None
        chosen = self.session.get(ACTIVE_MEMBERSHIP_KEY) if self.session is not None else None
        for membership in memberships:
            if membership.pk == chosen:
                return membership
        # Nothing chosen yet, or the chosen one ended: the first holds, and the session says so, so
        # the header, the screens and the access log all name the same one.
        if self.session is not None:
            self.session[ACTIVE_MEMBERSHIP_KEY] = memberships[0].pk
        return memberships[0]

    @cached_property
    def memberships(self) -> list[Membership]:
        """The active membership as a list (empty without one): what every screen and rule reads."""
        return [self.active_membership] if self.active_membership is not None else []

    @property
    def has_several_hats(self) -> bool:
        return len(self.all_memberships) > 1

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
    def is_org_admin(self) -> bool:
        """An organization's own administrator (組織管理者) in the hat worn now."""
        return self.has_role(Role.ORG_ADMIN)

    @property
    def is_place_staff(self) -> bool:
        return self.has_role(Role.PLACE_STAFF)

    def organizations(self, *roles: str) -> list:
        """Return the active organization when the user acts in it with any of the roles (all roles if none given)."""
        return [m.organization for m in self.memberships if not roles or m.role in roles]

    def organization_ids(self, *roles: str) -> set[int]:
        return {org.id for org in self.organizations(*roles)}


def viewer_for(request) -> Viewer:
    """Return the request's Viewer, computed once per request."""
    if not hasattr(request, "_viewer"):
        request._viewer = Viewer(request.user, getattr(request, "session", None))
    return request._viewer


def viewer_of(user) -> Viewer:
    """Return the Viewer for a user: the request's own when the user is the one signed in (their chosen hat).

    Services and the disclosure module receive `by=request.user`; this keeps them on the hat the user
    chose in the header instead of the first membership.
    """
    context = current_request_context()
    request = getattr(context, "request", None) if context is not None else None
    if request is not None and getattr(getattr(request, "user", None), "pk", None) == getattr(user, "pk", None):
        if getattr(request.user, "is_authenticated", False):
            return viewer_for(request)
    return Viewer(user)
