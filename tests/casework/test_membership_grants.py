"""Granting roles takes two administrators: one asks, another approves; both steps are in the access log."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from casework.choices import Role
from casework.models import AccessLog, Membership, MembershipGrant
from casework.services.memberships import membership_grant_approve, membership_grant_reject, membership_grant_request
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

GRANTS = "/admin/casework/membershipgrant/"


@pytest.fixture
def second_admin(personas):
    return MembershipFactory(
        user=UserFactory(username="admin2", last_name="小林", first_name="九郎"),
        organization=personas.municipal,
        role=Role.ADMINISTRATOR,
    ).user


@pytest.fixture
def newcomer(personas):
    """A new account without any role yet (a caseworker transferred in on 4月1日)."""
    return UserFactory(username="newcomer", last_name="新", first_name="一")


def _request(client, user, organization, role=Role.CASEWORKER, reason="4月1日付の異動"):
    return client.post(
        f"{GRANTS}add/",
        {"user": user.pk, "organization": organization.pk, "role": role, "title": "", "reason": reason},
    )


def _decide(client, grant, decision):
    return client.post(f"{GRANTS}{grant.pk}/decide/", {"decision": decision, "note": ""}, follow=True)


def _actions(*names):
    return list(AccessLog.objects.filter(action__in=names).order_by("id").values_list("action", "actor_id", "outcome"))


def test_a_request_gives_no_access_until_another_administrator_approves_it(personas, login, second_admin, newcomer):
    admin1 = login(personas.administrator)
    response = _request(admin1, newcomer, personas.window_a)
    assert response.status_code == 302
    grant = MembershipGrant.objects.get(user=newcomer)
    assert grant.status == MembershipGrant.Status.PENDING and grant.requested_by == personas.administrator
    assert not Membership.objects.filter(user=newcomer).exists()
    assert login(newcomer).get("/cases/").status_code == 404

    # The requester's own approval is refused and changes nothing.
    page = _decide(admin1, grant, "approve").content.decode()
    assert "自分が申請した権限付与は承認できません" in page
    grant.refresh_from_db()
    assert grant.status == MembershipGrant.Status.PENDING
    assert not Membership.objects.filter(user=newcomer).exists()

    page = _decide(login(second_admin), grant, "approve").content.decode()
    assert "1 件を承認しました" in page
    grant.refresh_from_db()
    assert grant.status == MembershipGrant.Status.APPROVED and grant.decided_by == second_admin
    assert grant.membership == Membership.objects.get(user=newcomer, organization=personas.window_a, is_active=True)
    assert login(newcomer).get("/cases/").status_code == 200


def test_both_steps_and_the_refused_self_approval_are_in_the_access_log(personas, second_admin, newcomer):
    grant = membership_grant_request(
        user=newcomer, organization=personas.window_a, role=Role.SUPERVISOR, reason="着任", by=personas.administrator
    )
    with pytest.raises(ValidationError, match="自分が申請した"):
        membership_grant_approve(grant=grant, by=personas.administrator)
    membership = membership_grant_approve(grant=grant, by=second_admin)
    denied, allowed = AccessLog.Outcome.DENIED, AccessLog.Outcome.ALLOWED
    assert _actions("grant_request", "grant_approve", "membership_grant") == [
        ("grant_request", personas.administrator.pk, allowed),
        ("grant_approve", personas.administrator.pk, denied),
        ("membership_grant", second_admin.pk, allowed),
        ("grant_approve", second_admin.pk, allowed),
    ]
    rows = AccessLog.objects.filter(object_type="membershipgrant", object_id=str(grant.pk))
    assert rows.count() == 3
    # Ids only: the typed reason stays on the request, never in the log.
    assert all("着任" not in row.reason for row in rows)
    assert (
        f"user={newcomer.pk}" in rows.first().reason
        and f"requested_by={personas.administrator.pk}" in rows.first().reason
    )
    assert AccessLog.objects.get(action="membership_grant").object_id == str(membership.pk)


def test_an_administrator_cannot_approve_a_grant_to_themselves(personas, second_admin):
    grant = MembershipGrant.objects.create(
        user=second_admin,
        organization=personas.municipal,
        role=Role.ADMINISTRATOR,
        reason="テスト",
        requested_by=personas.administrator,
    )
    with pytest.raises(ValidationError, match="自分自身への権限付与"):
        membership_grant_approve(grant=grant, by=second_admin)


def test_a_grant_is_decided_once(personas, second_admin, newcomer):
    grant = membership_grant_request(
        user=newcomer, organization=personas.window_a, role=Role.CASEWORKER, reason="着任", by=personas.administrator
    )
    membership_grant_reject(grant=grant, by=second_admin, note="所属先の確認が必要")
    assert grant.status == MembershipGrant.Status.REJECTED
    with pytest.raises(ValidationError, match="すでに処理されています"):
        membership_grant_approve(grant=grant, by=second_admin)
    assert not Membership.objects.filter(user=newcomer).exists()
    assert _actions("grant_reject") == [("grant_reject", second_admin.pk, AccessLog.Outcome.ALLOWED)]


def test_the_requester_may_withdraw_their_own_request_from_the_screen(personas, login, newcomer):
    admin1 = login(personas.administrator)
    _request(admin1, newcomer, personas.window_a)
    grant = MembershipGrant.objects.get(user=newcomer)
    detail = admin1.get(f"{GRANTS}{grant.pk}/change/").content.decode()
    assert "これはあなたが申請したものです" in detail and 'value="approve"' not in detail
    assert "1 件を却下しました" in _decide(admin1, grant, "reject").content.decode()
    grant.refresh_from_db()
    assert grant.status == MembershipGrant.Status.REJECTED


def test_the_database_refuses_an_approval_by_the_requester(personas):
    with pytest.raises(IntegrityError), transaction.atomic():
        MembershipGrant.objects.create(
            user=personas.caseworker_b,
            organization=personas.window_a,
            role=Role.CASEWORKER,
            reason="テスト",
            requested_by=personas.administrator,
            decided_by=personas.administrator,
            status=MembershipGrant.Status.APPROVED,
        )


def test_only_administrators_request_or_decide(personas, newcomer):
    with pytest.raises(PermissionDenied):
        membership_grant_request(
            user=newcomer, organization=personas.window_a, role=Role.CASEWORKER, reason="x", by=personas.supervisor_a
        )
    grant = membership_grant_request(
        user=newcomer, organization=personas.window_a, role=Role.CASEWORKER, reason="x", by=personas.administrator
    )
    with pytest.raises(PermissionDenied):
        membership_grant_approve(grant=grant, by=personas.supervisor_a)


def test_place_staff_are_given_at_once_but_never_to_oneself(personas, login, newcomer):
    admin1 = login(personas.administrator)
    response = _request(admin1, newcomer, personas.place_operator, role=Role.PLACE_STAFF)
    assert response.status_code == 302
    grant = MembershipGrant.objects.get(user=newcomer)
    assert grant.status == MembershipGrant.Status.APPLIED
    assert Membership.objects.filter(user=newcomer, role=Role.PLACE_STAFF, is_active=True).exists()
    assert _actions("grant_request", "membership_grant") == [
        ("grant_request", personas.administrator.pk, AccessLog.Outcome.ALLOWED),
        ("membership_grant", personas.administrator.pk, AccessLog.Outcome.ALLOWED),
    ]


def test_an_administrator_holds_no_other_role(personas, login, newcomer):
    admin1 = login(personas.administrator)
    page = _request(admin1, personas.administrator, personas.window_a).content.decode()
    assert "システム管理者にはほかの役割を付与できません" in page
    page = _request(admin1, personas.caseworker_a, personas.municipal, role=Role.ADMINISTRATOR).content.decode()
    assert "ほかの役割を持つ利用者はシステム管理者になれません" in page
    assert not MembershipGrant.objects.exists()


def test_a_duplicate_or_empty_request_is_refused_in_japanese(personas, login, newcomer):
    admin1 = login(personas.administrator)
    page = _request(admin1, newcomer, personas.window_a, reason="").content.decode()
    assert "このフィールドは必須です" in page
    _request(admin1, newcomer, personas.window_a)
    page = _request(admin1, newcomer, personas.window_a).content.decode()
    assert "同じ内容の申請がすでに承認待ちです" in page
    page = _request(admin1, personas.caseworker_a, personas.window_a).content.decode()
    assert "すでにこの機関・団体でこの役割を持っています" in page
    assert MembershipGrant.objects.count() == 1


def test_the_approval_screens_render_in_japanese(personas, login, second_admin, newcomer):
    admin1 = login(personas.administrator)
    add_page = admin1.get(f"{GRANTS}add/").content.decode()
    assert "申請理由" in add_page and "別のシステム管理者が承認するまで有効になりません" in add_page
    _request(admin1, newcomer, personas.window_a)
    assert admin1.get(GRANTS).status_code == 302  # opens on the pending requests
    listing = admin1.get(f"{GRANTS}?status__exact=pending").content.decode()
    assert "承認待ちの権限付与" in listing and "選択した申請を承認する" in listing and "newcomer" in listing
    grant = MembershipGrant.objects.get()
    detail = login(second_admin).get(f"{GRANTS}{grant.pk}/change/").content.decode()
    assert 'value="approve"' in detail and "却下する" in detail and "4月1日付の異動" in detail
    home = admin1.get("/").content.decode()
    assert "承認待ちの権限付与" in home and "1 件" in home


def test_approving_from_the_list_refuses_own_requests_and_approves_others(personas, login, second_admin, newcomer):
    membership_grant_request(
        user=newcomer, organization=personas.window_a, role=Role.CASEWORKER, reason="着任", by=personas.administrator
    )
    other = UserFactory(username="other")
    membership_grant_request(
        user=other, organization=personas.window_b, role=Role.CASEWORKER, reason="着任", by=second_admin
    )
    ids = list(MembershipGrant.objects.values_list("pk", flat=True))
    page = (
        login(personas.administrator)
        .post(f"{GRANTS}?status__exact=pending", {"action": "approve_selected", "_selected_action": ids}, follow=True)
        .content.decode()
    )
    assert "自分が申請した権限付与は承認できません" in page and "1 件を承認しました" in page
    assert Membership.objects.filter(user=other, is_active=True).exists()
    assert not Membership.objects.filter(user=newcomer).exists()


def test_deactivating_an_account_in_the_admin_ends_its_memberships_and_is_logged(personas, login):
    user = personas.caseworker_a
    victim = login(user)
    response = login(personas.administrator).post(
        f"/admin/auth/user/{user.pk}/change/",
        {"username": user.username, "last_name": user.last_name, "first_name": user.first_name, "email": ""},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert not user.is_active
    assert not Membership.objects.filter(user=user, is_active=True).exists()
    assert victim.get("/").status_code == 302
    assert [a for a, *_ in _actions("membership_end", "account_deactivate")] == ["membership_end", "account_deactivate"]


def test_create_administrator_makes_an_administrator_membership_not_a_superuser(monkeypatch, capsys):
    monkeypatch.setenv("FIRST_ADMIN_PASSWORD", "Kanri-2026-password!")
    call_command(
        "create_administrator",
        "kanri1",
        "--organization",
        "みどり市 情報政策課",
        "--password-env",
        "FIRST_ADMIN_PASSWORD",
    )
    membership = Membership.objects.select_related("user", "organization").get(user__username="kanri1")
    assert membership.role == Role.ADMINISTRATOR and membership.is_active
    assert membership.organization.name == "みどり市 情報政策課"
    assert not membership.user.is_superuser and membership.user.is_staff
    assert membership.user.check_password("Kanri-2026-password!")
    assert AccessLog.objects.filter(action="membership_grant", object_id=str(membership.pk)).exists()
    assert "もう1人の管理者を作成してください" in capsys.readouterr().out
    with pytest.raises(CommandError, match="すでに使われています"):
        call_command(
            "create_administrator",
            "kanri1",
            "--organization",
            "みどり市 情報政策課",
            "--password-env",
            "FIRST_ADMIN_PASSWORD",
        )


def test_create_administrator_refuses_a_weak_password(monkeypatch):
    monkeypatch.setenv("WEAK", "1234")
    with pytest.raises(CommandError, match="パスワードが条件を満たしていません"):
        call_command("create_administrator", "kanri2", "--organization", "市", "--password-env", "WEAK")
    assert not Membership.objects.filter(user__username="kanri2").exists()


def test_check_deploy_warns_about_an_active_superuser(personas):
    from casework.checks import no_superuser_in_normal_operation

    assert no_superuser_in_normal_operation(None, databases=["default"]) == []
    UserFactory(username="root", is_superuser=True)
    warnings = no_superuser_in_normal_operation(None, databases=["default"])
    assert [w.id for w in warnings] == ["casework.W010"] and "root" in warnings[0].msg


def test_the_auditor_sees_the_grant_trail_in_a_review_report(personas, login, second_admin, newcomer):
    grant = membership_grant_request(
        user=newcomer, organization=personas.window_a, role=Role.CASEWORKER, reason="着任", by=personas.administrator
    )
    membership_grant_approve(grant=grant, by=second_admin)
    page = login(personas.auditor).get("/audit/reports/role-changes/").content.decode()
    assert "権限の付与と終了" in page
    for label in ("権限付与の申請", "権限付与の承認", "所属・役割の付与"):
        assert label in page
    assert "admin2" in page and f"user={newcomer.pk}" in page
