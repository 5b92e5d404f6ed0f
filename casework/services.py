"""Writes that cross models in the casework kernel."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from casework.choices import Role
from casework.models import Membership, Organization
from casework.sessions import user_end_sessions

User = get_user_model()

ADMINISTRATORS_GROUP = "role:administrators"
# What administrators may manage in the admin site: accounts and organizations, never case content.
ADMINISTRATOR_PERMISSIONS = [
    ("auth", "user"),
    ("auth", "group"),
    ("casework", "organization"),
    ("casework", "membership"),
    ("axes", "accessattempt"),
    ("axes", "accessfailurelog"),
]


def administrators_group() -> Group:
    """Return the group holding administrators' model permissions, creating it when missing."""
    group, _created = Group.objects.get_or_create(name=ADMINISTRATORS_GROUP)
    wanted = Permission.objects.filter(
        content_type__app_label__in={app for app, _model in ADMINISTRATOR_PERMISSIONS},
        content_type__model__in={model for _app, model in ADMINISTRATOR_PERMISSIONS},
    )
    group.permissions.add(*wanted)
    return group


@transaction.atomic
def user_sync_groups(*, user) -> None:
    """Make the user's groups and staff flag match their active memberships."""
    active = list(
        Membership.objects.filter(user=user, is_active=True, organization__is_active=True).select_related(
            "organization"
        )
    )
    wanted = {m.organization.group_id for m in active}
    is_admin = any(m.role == Role.ADMINISTRATOR for m in active)
    org_groups = set(user.groups.filter(organization__isnull=False).values_list("id", flat=True))
    user.groups.remove(*(org_groups - wanted))
    user.groups.add(*(wanted - org_groups))
    admin_group = administrators_group()
    if is_admin:
        user.groups.add(admin_group)
    else:
        user.groups.remove(admin_group)
    if user.is_staff != is_admin and not user.is_superuser:
        User.objects.filter(pk=user.pk).update(is_staff=is_admin)
        user.is_staff = is_admin


@transaction.atomic
def membership_add(*, user, organization: Organization, role: str, title: str = "") -> Membership:
    """Add the user to the organization with a role (reactivating a matching ended membership)."""
    membership, _created = Membership.objects.update_or_create(
        user=user, organization=organization, role=role, defaults={"is_active": True, "title": title}
    )
    user_sync_groups(user=user)
    return membership


@transaction.atomic
def membership_end(*, membership: Membership) -> None:
    """End a membership; the user's access through that organization stops on the next request."""
    membership.is_active = False
    membership.save(update_fields=["is_active"])
    user_sync_groups(user=membership.user)
    # Whatever the user had open through this organization must stop now, not at the next click.
    user_end_sessions(user=membership.user)
