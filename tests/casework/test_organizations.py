"""Organizations, memberships and the groups that carry object permissions."""

import pytest
from django.contrib.auth.models import Group

from casework.choices import Role
from casework.models import Membership
from casework.services.memberships import membership_add, membership_end
from tests.factories import OrganizationFactory, UserFactory


@pytest.mark.django_db
def test_each_organization_gets_its_own_group():
    org = OrganizationFactory(name="こども家庭センター")
    assert org.group.name == "org:こども家庭センター"
    org.name = "こども家庭センター北"
    org.save()
    org.group.refresh_from_db()
    assert org.group.name == "org:こども家庭センター北"


@pytest.mark.django_db
def test_a_membership_puts_the_user_in_the_organizations_group_and_ending_it_removes_them():
    org = OrganizationFactory()
    user = UserFactory()
    membership = membership_add(user=user, organization=org, role=Role.CASEWORKER)
    assert org.group in user.groups.all()
    membership_end(membership=membership)
    assert org.group not in user.groups.all()


@pytest.mark.django_db
def test_deleting_a_membership_in_the_admin_also_updates_groups():
    org = OrganizationFactory()
    user = UserFactory()
    membership_add(user=user, organization=org, role=Role.CASEWORKER)
    Membership.objects.filter(user=user).delete()
    assert not user.groups.filter(pk=org.group_id).exists()


@pytest.mark.django_db
def test_an_administrator_membership_grants_the_admin_site_but_not_superuser():
    org = OrganizationFactory()
    user = UserFactory()
    membership_add(user=user, organization=org, role=Role.ADMINISTRATOR)
    user.refresh_from_db()
    assert user.is_staff and not user.is_superuser
    assert user.has_perm("casework.change_organization")
    assert Group.objects.filter(name="role:administrators", user=user).exists()


@pytest.mark.django_db
def test_the_admin_site_is_for_administrators_only(personas, login):
    assert login(personas.administrator).get("/admin/casework/organization/").status_code == 200
    response = login(personas.caseworker_a).get("/admin/casework/organization/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.django_db
def test_every_persona_sees_a_home_page_for_their_role(personas, login):
    expectations = {
        personas.caseworker_a: "担当ケース",
        personas.supervisor_a: "担当ケース",
        personas.auditor: "アクセス記録",
        personas.administrator: "利用者と機関の管理",
        personas.place_staff: "所属",
    }
    for user, text in expectations.items():
        response = login(user).get("/")
        assert response.status_code == 200
        assert text in response.content.decode(), user.username
