"""An organization's own administrator (組織管理者): accounts and memberships of its organization only.

Case roles still take a second person; city-wide roles, superuser and staff flags, other organizations'
accounts and requests are out of reach, whatever a tampered POST says; every refusal is logged.
"""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from casework.accounts.second_factor import second_factor_required
from casework.choices import Role
from casework.models import AccessLog, Membership, MembershipEvent, MembershipGrant, Organization
from casework.services.memberships import (
    account_create,
    membership_grant_approve,
    membership_grant_request,
    membership_schedule_end,
)
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
User = get_user_model()
PASSWORD = "kari-pass-2026-haru"


def _account_post(**extra):
    data = {
        "username": "tanaka_hanako",
        "last_name": "田中",
        "first_name": "花子",
        "email": "",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "role": Role.CASEWORKER,
        "title": "相談支援員",
        "starts_on": "",
        "reason": "4月1日付 着任",
    }
    data.update(extra)
    return data


@pytest.fixture
def second_org_admin(personas):
    return MembershipFactory(
        user=UserFactory(username="org_admin_a2", last_name="大野", first_name="十"),
        organization=personas.window_a,
        role=Role.ORG_ADMIN,
    ).user


def _denied(action):
    return AccessLog.objects.filter(
        action=action, outcome=AccessLog.Outcome.DENIED, actor_username="org_admin_a"
    ).count()


def test_it_creates_an_account_whose_case_role_waits_for_a_second_person(personas, login, second_org_admin):
    client = login(personas.org_admin)
    page = client.get("/org-admin/").content.decode()
    assert "職員・所属の管理" in page and personas.window_a.name in page
    assert "佐藤\u3000一郎" in page  # window A's caseworker, family name first

    response = client.post("/org-admin/accounts/new/", _account_post())
    assert response.status_code == 302
    user = User.objects.get(username="tanaka_hanako")
    assert (user.last_name, user.first_name) == ("田中", "花子")
    assert not user.is_staff and not user.is_superuser and user.check_password(PASSWORD)
    grant = MembershipGrant.objects.get(user=user)
    assert grant.status == MembershipGrant.Status.PENDING and grant.organization == personas.window_a
    assert not Membership.objects.filter(user=user).exists()
    assert login(user).get("/cases/").status_code == 404
    assert AccessLog.objects.filter(action="account_create", object_id=str(user.pk)).exists()

    # The requester has no approve button, and a posted approval is refused and changes nothing.
    page = client.get("/org-admin/").content.decode()
    assert "取り下げる" in page and 'value="approve"' not in page
    page = client.post(f"/org-admin/grants/{grant.pk}/decide/", {"decision": "approve"}, follow=True)
    assert "自分が申請した権限付与は承認できません" in page.content.decode()
    grant.refresh_from_db()
    assert grant.status == MembershipGrant.Status.PENDING

    # The organization's second administrator approves: the role starts, with its history.
    response = login(second_org_admin).post(f"/org-admin/grants/{grant.pk}/decide/", {"decision": "approve"})
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.status == MembershipGrant.Status.APPROVED and grant.decided_by == second_org_admin
    membership = Membership.objects.get(user=user, organization=personas.window_a, role=Role.CASEWORKER)
    assert membership.events.get().kind == MembershipEvent.Kind.STARTED
    assert membership.events.get().reason == "4月1日付 着任"
    assert login(user).get("/cases/").status_code == 200


def test_a_system_administrator_can_approve_the_organizations_request(personas):
    grant = account_create(
        username="suzuki_k",
        last_name="鈴木",
        first_name="健",
        password=PASSWORD,
        organization=personas.window_a,
        role=Role.SUPERVISOR,
        reason="係長として着任",
        by=personas.org_admin,
    )
    membership_grant_approve(grant=grant, by=personas.administrator)
    assert Membership.objects.active().filter(user=grant.user, role=Role.SUPERVISOR).exists()


def test_place_staff_of_a_place_operator_are_given_at_once(personas, login):
    org_admin = MembershipFactory(
        user=UserFactory(username="npo_admin"), organization=personas.place_operator, role=Role.ORG_ADMIN
    ).user
    client = login(org_admin)
    page = client.get("/org-admin/accounts/new/").content.decode()
    assert 'value="place_staff"' in page and 'value="caseworker"' not in page
    response = client.post("/org-admin/accounts/new/", _account_post(role=Role.PLACE_STAFF, username="ibasho1"))
    assert response.status_code == 302
    user = User.objects.get(username="ibasho1")
    assert Membership.objects.active().filter(user=user, organization=personas.place_operator).exists()


def test_a_login_id_typed_full_width_becomes_half_width(personas, login):
    response = login(personas.org_admin).post("/org-admin/accounts/new/", _account_post(username="ｔａｎａｋａ＿２"))
    assert response.status_code == 302
    assert User.objects.filter(username="tanaka_2").exists()


def test_bad_input_gets_japanese_messages_and_creates_nothing(personas, login):
    client = login(personas.org_admin)
    page = client.post("/org-admin/accounts/new/", _account_post(password2="other")).content.decode()
    assert "確認のパスワードが一致しません" in page
    page = client.post(
        "/org-admin/accounts/new/", _account_post(username="cw_a", password1="short", password2="short")
    ).content.decode()
    assert "このログインIDはすでに使われています" in page
    assert "パスワード" in page and "何も登録していません" in page
    assert not MembershipGrant.objects.filter(organization=personas.window_a).exists()
    assert not User.objects.filter(username="tanaka_hanako").exists()


@pytest.mark.parametrize("role", [Role.ADMINISTRATOR, Role.AUDITOR, Role.ORG_ADMIN, Role.PLACE_STAFF, "superuser"])
def test_a_tampered_role_in_the_account_form_creates_nothing(personas, login, role):
    before = User.objects.count()
    response = login(personas.org_admin).post("/org-admin/accounts/new/", _account_post(role=role))
    assert response.status_code == 200
    assert "有効な選択肢を選んでください" in response.content.decode() or "選択" in response.content.decode()
    assert User.objects.count() == before
    assert not MembershipGrant.objects.exists()


def test_posted_superuser_staff_and_organization_fields_are_ignored(personas, login):
    data = _account_post(is_superuser="on", is_staff="on", organization=personas.window_b.pk, groups="1")
    assert login(personas.org_admin).post("/org-admin/accounts/new/", data).status_code == 302
    user = User.objects.get(username="tanaka_hanako")
    assert not user.is_superuser and not user.is_staff and not user.groups.exists()
    assert MembershipGrant.objects.get(user=user).organization == personas.window_a


@pytest.mark.parametrize("role", [Role.ADMINISTRATOR, Role.AUDITOR, Role.ORG_ADMIN])
def test_the_service_refuses_city_wide_roles_and_logs_the_attempt(personas, role):
    newcomer = UserFactory(username="newcomer")
    MembershipGrant.objects.create(
        user=newcomer,
        organization=personas.window_a,
        role=Role.CASEWORKER,
        reason="x",
        requested_by=personas.administrator,
        status=MembershipGrant.Status.REJECTED,
    )
    with pytest.raises(PermissionDenied):
        membership_grant_request(
            user=newcomer, organization=personas.window_a, role=role, reason="昇格", by=personas.org_admin
        )
    with pytest.raises(PermissionDenied):
        account_create(
            username="x1",
            last_name="某",
            password=PASSWORD,
            organization=personas.window_a,
            role=role,
            reason="昇格",
            by=personas.org_admin,
        )
    assert not Membership.objects.filter(user=newcomer).exists()
    assert not User.objects.filter(username="x1").exists()
    assert _denied("grant_request") == 1 and _denied("account_create") == 1


def test_another_organizations_accounts_and_requests_are_out_of_reach(personas, login):
    client = login(personas.org_admin)
    # B's caseworker is not offered, and posting their id is refused by the form.
    page = client.get("/org-admin/grants/new/").content.decode()
    assert "鈴木\u3000二郎" not in page and "髙橋\u3000三郎" in page
    response = client.post(
        "/org-admin/grants/new/",
        {"user": personas.caseworker_b.pk, "role": Role.CASEWORKER, "reason": "兼務", "starts_on": ""},
    )
    assert response.status_code == 200 and not MembershipGrant.objects.exists()
    # The services refuse too: B's organization, B's account, the system administrator.
    for user, organization in (
        (personas.caseworker_a, personas.window_b),
        (personas.caseworker_b, personas.window_a),
        (personas.administrator, personas.window_a),
    ):
        with pytest.raises(PermissionDenied):
            membership_grant_request(
                user=user, organization=organization, role=Role.CASEWORKER, reason="兼務", by=personas.org_admin
            )
    assert not MembershipGrant.objects.exists() and _denied("grant_request") == 3

    # B's request and B's membership: 404 for reading and for every write.
    grant_b = membership_grant_request(
        user=UserFactory(username="newcomer_b"),
        organization=personas.window_b,
        role=Role.CASEWORKER,
        reason="着任",
        by=personas.administrator,
    )
    assert client.post(f"/org-admin/grants/{grant_b.pk}/decide/", {"decision": "approve"}).status_code == 404
    assert client.post(f"/org-admin/grants/{grant_b.pk}/decide/", {"decision": "reject"}).status_code == 404
    grant_b.refresh_from_db()
    assert grant_b.status == MembershipGrant.Status.PENDING
    membership_b = Membership.objects.get(user=personas.caseworker_b)
    assert client.get(f"/org-admin/memberships/{membership_b.pk}/").status_code == 404
    response = client.post(
        f"/org-admin/memberships/{membership_b.pk}/", {"action": "end", "ends_on": "今日", "reason": "異動"}
    )
    assert response.status_code == 404
    membership_b.refresh_from_db()
    assert membership_b.is_active and membership_b.ends_on is None
    with pytest.raises(PermissionDenied):
        membership_schedule_end(membership=membership_b, on=timezone.localdate(), reason="異動", by=personas.org_admin)


def test_it_cannot_approve_a_city_wide_role_for_its_own_organization(personas, login, second_org_admin):
    grant = membership_grant_request(
        user=UserFactory(username="newcomer"),
        organization=personas.window_a,
        role=Role.ORG_ADMIN,
        reason="組織管理者の追加",
        by=personas.administrator,
    )
    response = login(personas.org_admin).post(f"/org-admin/grants/{grant.pk}/decide/", {"decision": "approve"})
    assert response.status_code == 404
    grant.refresh_from_db()
    assert grant.status == MembershipGrant.Status.PENDING
    assert _denied("grant_approve") == 1


def test_it_ends_a_membership_on_a_date_with_a_reason_and_keeps_the_history(personas, login):
    client = login(personas.org_admin)
    membership = Membership.objects.get(user=personas.caseworker_a, organization=personas.window_a)
    on = timezone.localdate() + datetime.timedelta(days=30)
    response = client.post(
        f"/org-admin/memberships/{membership.pk}/",
        {"action": "end", "ends_on": on.isoformat(), "reason": "人事異動（福祉課へ）"},
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.is_active and membership.ends_on == on
    page = client.get(f"/org-admin/memberships/{membership.pk}/").content.decode()
    assert "終了日の設定" in page and "人事異動（福祉課へ）" in page and "令和" in page
    # Today: ended at once.
    client.post(f"/org-admin/memberships/{membership.pk}/", {"action": "cancel", "reason": "異動の取消し"})
    client.post(
        f"/org-admin/memberships/{membership.pk}/",
        {"action": "end", "ends_on": timezone.localdate().isoformat(), "reason": "退職"},
    )
    membership.refresh_from_db()
    assert not membership.is_active
    kinds = list(membership.events.values_list("kind", flat=True))
    assert kinds[-3:] == ["end_scheduled", "end_cancelled", "ended"]


def test_its_own_administrator_membership_is_not_its_to_end(personas, login):
    own = Membership.objects.get(user=personas.org_admin)
    client = login(personas.org_admin)
    assert client.get(f"/org-admin/memberships/{own.pk}/").status_code == 200
    response = client.post(
        f"/org-admin/memberships/{own.pk}/",
        {"action": "end", "ends_on": timezone.localdate().isoformat(), "reason": "x"},
    )
    assert response.status_code == 404
    own.refresh_from_db()
    assert own.is_active


def test_the_screens_follow_the_hat_worn_now(personas, login):
    """A 係長 who is also the window's administrator sees these screens only in the 組織管理者 hat."""
    supervisor = personas.supervisor_a
    hat = MembershipFactory(user=supervisor, organization=personas.window_a, role=Role.ORG_ADMIN)
    client = login(supervisor)
    assert client.get("/org-admin/").status_code == 404
    client.post("/account/hat/", {"membership": hat.pk})
    assert client.get("/org-admin/").status_code == 200
    assert client.get("/cases/").status_code == 404


def test_the_role_needs_the_second_factor_and_no_staff_flag(personas):
    assert second_factor_required(personas.org_admin)
    personas.org_admin.refresh_from_db()
    assert not personas.org_admin.is_staff
    assert Organization.objects.filter(memberships__user=personas.org_admin).get() == personas.window_a


def test_a_system_administrator_chooses_the_organization_and_may_appoint_its_administrator(personas, login):
    client = login(personas.administrator)
    page = client.get("/org-admin/").content.decode()
    assert personas.window_b.name in page and "管理する機関・団体を選んでください" in page
    assert client.get("/org-admin/accounts/new/").status_code == 404  # no organization named
    page = client.get(f"/org-admin/accounts/new/?organization={personas.window_b.pk}").content.decode()
    assert 'value="org_admin"' in page
    # The organization administrator's own form never offers it.
    page = login(personas.org_admin).get("/org-admin/accounts/new/").content.decode()
    assert 'value="org_admin"' not in page and 'value="administrator"' not in page and 'value="auditor"' not in page
    response = client.post(
        f"/org-admin/accounts/new/?organization={personas.window_b.pk}",
        _account_post(username="nishi_jimu", role=Role.ORG_ADMIN, reason="事務長として着任"),
    )
    assert response.status_code == 302
    grant = MembershipGrant.objects.get(user__username="nishi_jimu")
    assert grant.organization == personas.window_b and grant.status == MembershipGrant.Status.PENDING
