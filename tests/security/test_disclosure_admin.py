"""Issue 15, rows 4 and 5: administrators administer and never read; ending a membership ends access everywhere.

Each test reproduces the attack of its row through the HTTP client and asserts it is now refused.
The live-agenda socket side of row 5 is in tests/meetings/test_consumer.py (test_ending_a_membership_*).
"""

import pytest
from django.contrib.auth.models import Group, Permission

from casework.choices import Role
from casework.models import AccessLog, Membership, MembershipGrant
from tests.factories import UserFactory, give_layered_consent, make_meeting, make_meeting_case, put_on_agenda

pytestmark = pytest.mark.django_db


def _user_form(user, **extra):
    data = {
        "username": user.username,
        "last_name": user.last_name,
        "first_name": user.first_name,
        "email": "",
        "is_active": "on",
    }
    data.update(extra)
    return data


def test_row_4_the_user_admin_offers_no_superuser_staff_groups_or_permissions(personas, login):
    admin = login(personas.administrator)
    response = admin.get(f"/admin/auth/user/{personas.caseworker_a.pk}/change/")
    assert response.status_code == 200
    fields = set(response.context["adminform"].form.fields)
    assert not fields & {"is_superuser", "is_staff", "groups", "user_permissions"}
    add = admin.get("/admin/auth/user/add/")
    assert not set(add.context["adminform"].form.fields) & {"is_superuser", "is_staff", "groups", "user_permissions"}
    # The group editor is gone: groups carry organizations' object permissions.
    assert admin.get("/admin/auth/group/").status_code == 404


def test_row_4_posting_is_superuser_makes_nobody_superuser(personas, login):
    admin = login(personas.administrator)
    everything = list(Permission.objects.values_list("pk", flat=True))
    groups = list(Group.objects.values_list("pk", flat=True))
    hostile = {"is_superuser": "on", "is_staff": "on", "groups": groups, "user_permissions": everything}
    me = personas.administrator
    response = admin.post(f"/admin/auth/user/{me.pk}/change/", _user_form(me, **hostile))
    assert response.status_code == 302
    other = personas.caseworker_a
    assert admin.post(f"/admin/auth/user/{other.pk}/change/", _user_form(other, **hostile)).status_code == 302
    response = admin.post(
        "/admin/auth/user/add/",
        {
            "username": "mallory",
            "usable_password": "true",
            "password1": "Tsuyoi-pass-2026!x",
            "password2": "Tsuyoi-pass-2026!x",
            **hostile,
        },
    )
    assert response.status_code == 302
    for user in (me, other, personas.caseworker_a.__class__.objects.get(username="mallory")):
        user.refresh_from_db()
        assert not user.is_superuser
        assert not user.user_permissions.exists()
    assert not personas.caseworker_a.__class__.objects.filter(is_superuser=True).exists()
    assert not other.is_staff  # staff follows an administrator membership only
    assert set(me.groups.values_list("name", flat=True)) == {"role:administrators", f"org:{personas.municipal.name}"}


def test_row_4_an_administrator_cannot_edit_a_superuser(personas, login):
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    admin = login(personas.administrator)
    assert admin.get(f"/admin/auth/user/{root.pk}/change/").status_code == 302  # "does not exist"
    admin.post(f"/admin/auth/user/{root.pk}/change/", _user_form(root, username="taken", is_active=""))
    admin.post(f"/admin/auth/user/{root.pk}/password/", {"password1": "x-Y-z-2026!!", "password2": "x-Y-z-2026!!"})
    root.refresh_from_db()
    assert root.username == "root" and root.is_active and not root.check_password("x-Y-z-2026!!")
    assert "root" not in admin.get("/admin/auth/user/").content.decode()


def test_row_4_an_administrator_cannot_make_themselves_a_caseworker(personas, login, case_a):
    admin = login(personas.administrator)
    me = personas.administrator
    # The direct add of the reproduction is gone.
    response = admin.post(
        "/admin/casework/membership/add/",
        {"user": me.pk, "organization": personas.window_a.pk, "role": Role.CASEWORKER, "is_active": "on"},
    )
    assert response.status_code == 403
    # Asking for it is refused too: an administrator holds no role that reads.
    response = admin.post(
        "/admin/casework/membershipgrant/add/",
        {"user": me.pk, "organization": personas.window_a.pk, "role": Role.CASEWORKER, "reason": "自分で閲覧したい"},
    )
    assert response.status_code == 200 and "システム管理者にはほかの役割を付与できません" in response.content.decode()
    assert not Membership.objects.filter(user=me).exclude(role=Role.ADMINISTRATOR).exists()
    assert not MembershipGrant.objects.exists()
    assert admin.get(f"/cases/{case_a.pk}/").status_code == 404


def test_row_4_a_caseworker_grant_through_the_admin_needs_a_second_administrator_and_is_logged(personas, login, case_a):
    accomplice = UserFactory(username="accomplice")
    admin = login(personas.administrator)
    response = admin.post(
        "/admin/casework/membershipgrant/add/",
        {"user": accomplice.pk, "organization": personas.window_a.pk, "role": Role.CASEWORKER, "reason": "着任"},
    )
    assert response.status_code == 302
    grant = MembershipGrant.objects.get()
    admin.post(f"/admin/casework/membershipgrant/{grant.pk}/decide/", {"decision": "approve"})
    grant.refresh_from_db()
    assert grant.status == MembershipGrant.Status.PENDING
    assert not Membership.objects.filter(user=accomplice).exists()
    assert login(accomplice).get(f"/cases/{case_a.pk}/").status_code == 404
    logged = AccessLog.objects.filter(object_type="membershipgrant", object_id=str(grant.pk))
    assert sorted(logged.values_list("action", "outcome")) == [
        ("grant_approve", "denied"),
        ("grant_request", "allowed"),
    ]


@pytest.fixture
def meeting_a(personas):
    """A 重層的支援会議 with caseworker A taking part and window A's consented case on its agenda."""
    case = make_meeting_case(lead_organization=personas.window_a, lead_worker=personas.caseworker_a, state="planning")
    give_layered_consent(case, by=personas.caseworker_a)
    meeting = make_meeting(chair=personas.chair, secretary=personas.coordinator, participants=[personas.caseworker_a])
    item = put_on_agenda(meeting=meeting, case=case, purpose="plan_agreement", by=personas.chair)
    return meeting, item, case


def _meeting_urls(meeting, item):
    return [
        f"/meetings/{meeting.pk}/",
        f"/meetings/{meeting.pk}/live/",
        f"/meetings/{meeting.pk}/minutes/",
        f"/meetings/{meeting.pk}/items/{item.pk}/",
    ]


def test_row_5_unticking_a_membership_in_the_admin_is_refused_and_ending_it_ends_access_everywhere(
    personas, login, meeting_a
):
    meeting, item, case = meeting_a
    worker = login(personas.caseworker_a)
    for url in [*_meeting_urls(meeting, item), f"/cases/{case.pk}/"]:
        assert worker.get(url).status_code == 200, url
    membership = Membership.objects.get(user=personas.caseworker_a)
    admin = login(personas.administrator)

    # The reproduction: unticking is_active on the change form no longer saves anything.
    response = admin.post(
        f"/admin/casework/membership/{membership.pk}/change/",
        {"user": membership.user_id, "organization": membership.organization_id, "role": membership.role},
    )
    assert response.status_code == 403
    membership.refresh_from_db()
    assert membership.is_active

    # Ending it goes through membership_end: the session ends and the step is logged.
    response = admin.post(
        "/admin/casework/membership/", {"action": "end_memberships", "_selected_action": [membership.pk]}
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert not membership.is_active
    assert AccessLog.objects.filter(
        action="membership_end", object_id=str(membership.pk), actor=personas.administrator
    ).exists()
    assert worker.get(f"/meetings/{meeting.pk}/").status_code == 302  # signed out

    # Signed in again, the person reaches neither the case nor any page of the meeting.
    again = login(personas.caseworker_a)
    for url in [*_meeting_urls(meeting, item), f"/cases/{case.pk}/"]:
        assert again.get(url).status_code == 404, url
    assert meeting.title not in again.get("/meetings/").content.decode()


def test_row_5_a_deactivated_organization_ends_meeting_access_on_the_next_request(personas, login, meeting_a):
    meeting, item, _case = meeting_a
    worker = login(personas.caseworker_a)
    assert worker.get(f"/meetings/{meeting.pk}/").status_code == 200
    organization = personas.window_a
    admin = login(personas.administrator)
    response = admin.post(
        f"/admin/casework/organization/{organization.pk}/change/",
        {
            "name": organization.name,
            "short_name": organization.short_name,
            "kind": organization.kind,
            "domains": organization.domains,
            "phone": "",
            "email": "",
            "address": "",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    organization.refresh_from_db()
    assert not organization.is_active
    # The session lives on, but the participation no longer rests on an active case-role membership.
    for url in _meeting_urls(meeting, item):
        assert worker.get(url).status_code == 404, url


def test_row_5_a_participant_whose_case_role_ended_is_no_participant(personas, login, meeting_a):
    """Keeping another role elsewhere (here: place staff) does not keep the meeting."""
    from casework.services.memberships import membership_add, membership_end

    meeting, item, _case = meeting_a
    membership_add(user=personas.caseworker_a, organization=personas.place_operator, role=Role.PLACE_STAFF)
    membership_end(membership=Membership.objects.get(user=personas.caseworker_a, role=Role.CASEWORKER))
    worker = login(personas.caseworker_a)
    for url in _meeting_urls(meeting, item):
        assert worker.get(url).status_code == 404, url
