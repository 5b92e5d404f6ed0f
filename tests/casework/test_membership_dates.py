"""Memberships over time: start and end dates checked at every read, history with reasons, scheduled ends."""

import datetime as dt

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from casework import disclosure
from casework.choices import Role
from casework.models import AccessLog, Membership, MembershipEvent, MembershipGrant
from casework.services.memberships import (
    membership_add,
    membership_end,
    membership_end_cancel,
    membership_grant_approve,
    membership_grant_request,
    membership_schedule_end,
    memberships_apply_dates,
)
from casework.viewers import Viewer
from tests.factories import MembershipFactory, UserFactory


def travel_to(monkeypatch, day: dt.date, at: dt.time = dt.time(9, 0)) -> None:
    """Move the clock to that time (Tokyo) on that day (every timezone.now and localdate follows)."""
    moment = dt.datetime.combine(day, at, tzinfo=timezone.get_current_timezone())
    monkeypatch.setattr(timezone, "now", lambda: moment)


@pytest.fixture
def second_admin(personas):
    return MembershipFactory(
        user=UserFactory(username="admin2", last_name="木村", first_name="拓也"),
        organization=personas.municipal,
        role=Role.ADMINISTRATOR,
    ).user


@pytest.mark.django_db
def test_an_end_date_on_april_first_stops_access_that_day_by_itself(personas, case_a, login, monkeypatch):
    travel_to(monkeypatch, dt.date(2027, 3, 20))
    membership = personas.caseworker_a.memberships.get()
    membership_schedule_end(
        membership=membership, on=dt.date(2027, 4, 1), reason="人事異動（福祉課へ）", by=personas.administrator
    )
    url = f"/cases/{case_a.pk}/"

    travel_to(monkeypatch, dt.date(2027, 3, 31), dt.time(23, 55))
    client = login(personas.caseworker_a)
    assert client.get(url).status_code == 200
    assert disclosure.case_basis(personas.caseworker_a, case_a) is not None

    # Nobody runs anything at midnight: the next request on 4月1日 already finds no membership.
    travel_to(monkeypatch, dt.date(2027, 4, 1), dt.time(0, 1))
    assert client.get(url).status_code == 404
    assert disclosure.case_basis(personas.caseworker_a, case_a) is None
    assert Viewer(personas.caseworker_a).memberships == []
    assert case_a not in disclosure.cases_for_user(personas.caseworker_a)
    membership.refresh_from_db()
    assert membership.is_active  # not ended by anyone yet, only by its date


@pytest.mark.django_db
def test_the_daily_job_ends_the_membership_and_its_sessions_once(personas, login, monkeypatch):
    travel_to(monkeypatch, dt.date(2027, 3, 20))
    membership = personas.caseworker_a.memberships.get()
    membership_schedule_end(membership=membership, on=dt.date(2027, 4, 1), reason="退職", by=personas.administrator)
    travel_to(monkeypatch, dt.date(2027, 3, 31), dt.time(23, 50))
    login(personas.caseworker_a)
    assert memberships_apply_dates()[0] == 0
    assert Session.objects.count() == 1
    travel_to(monkeypatch, dt.date(2027, 4, 1), dt.time(0, 5))
    assert memberships_apply_dates()[0] == 1
    assert memberships_apply_dates()[0] == 0  # idempotent
    membership.refresh_from_db()
    assert not membership.is_active and membership.ends_on == dt.date(2027, 4, 1)
    assert Session.objects.count() == 0
    assert not personas.caseworker_a.groups.filter(pk=personas.window_a.group_id).exists()
    kinds = list(membership.events.values_list("kind", "effective_on", "reason"))
    assert kinds == [
        (MembershipEvent.Kind.END_SCHEDULED, dt.date(2027, 4, 1), "退職"),
        (MembershipEvent.Kind.ENDED, dt.date(2027, 4, 1), "退職"),
    ]


@pytest.mark.django_db
def test_a_role_granted_from_april_first_opens_nothing_before_that_day(personas, second_admin, monkeypatch):
    travel_to(monkeypatch, dt.date(2027, 3, 10))
    newcomer = UserFactory(username="newcomer", last_name="新井", first_name="春")
    grant = membership_grant_request(
        user=newcomer,
        organization=personas.window_a,
        role=Role.CASEWORKER,
        reason="4月1日付の人事異動",
        by=personas.administrator,
        starts_on=dt.date(2027, 4, 1),
    )
    membership = membership_grant_approve(grant=grant, by=second_admin)
    assert membership.starts_on == dt.date(2027, 4, 1)
    assert grant.status == MembershipGrant.Status.APPROVED
    assert Viewer(newcomer).memberships == []
    assert disclosure.case_organization_ids(newcomer) == set()
    travel_to(monkeypatch, dt.date(2027, 4, 1))
    assert [m.pk for m in Viewer(newcomer).memberships] == [membership.pk]
    memberships_apply_dates()
    assert newcomer.groups.filter(pk=personas.window_a.group_id).exists()
    event = membership.events.get()
    assert (event.kind, event.effective_on, event.reason) == ("started", dt.date(2027, 4, 1), "4月1日付の人事異動")


@pytest.mark.django_db
def test_ending_today_goes_through_the_service_with_sessions_and_log(personas, login):
    client = login(personas.caseworker_a)
    membership = personas.caseworker_a.memberships.get()
    membership_end(membership=membership, by=personas.administrator, reason="退職")
    assert client.get("/").status_code == 302
    membership.refresh_from_db()
    assert not membership.is_active and membership.ends_on == timezone.localdate()
    assert AccessLog.objects.filter(
        action=AccessLog.Action.MEMBERSHIP_END, object_id=str(membership.pk), actor=personas.administrator
    ).exists()
    # Started again later: one row, its history continues.
    again = membership_add(
        user=personas.caseworker_a, organization=personas.window_a, role=Role.CASEWORKER, reason="再任用"
    )
    assert again.pk == membership.pk and again.is_active and again.ends_on is None
    assert list(again.events.values_list("kind", flat=True)) == ["ended", "started"]


@pytest.mark.django_db
def test_a_scheduled_end_can_be_withdrawn_and_bad_dates_are_refused(personas):
    membership = personas.caseworker_a.memberships.get()
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    with pytest.raises(Exception, match="過去"):
        membership_schedule_end(
            membership=membership, on=timezone.localdate() - dt.timedelta(days=1), reason="x", by=personas.administrator
        )
    with pytest.raises(Exception, match="理由"):
        membership_schedule_end(membership=membership, on=tomorrow, reason=" ", by=personas.administrator)
    membership_schedule_end(membership=membership, on=tomorrow, reason="異動", by=personas.administrator)
    membership_end_cancel(membership=membership, by=personas.administrator, reason="異動の取りやめ")
    membership.refresh_from_db()
    assert membership.ends_on is None and membership.holds_on(tomorrow)
    assert list(membership.events.values_list("kind", flat=True)) == ["end_scheduled", "end_cancelled"]
    with pytest.raises(Exception, match="取り消せる"):
        membership_end_cancel(membership=membership, by=personas.administrator)


@pytest.mark.django_db
def test_administrators_set_an_end_date_in_the_admin(personas, login, monkeypatch):
    membership = personas.caseworker_a.memberships.get()
    admin = login(personas.administrator)
    page = admin.get(f"/admin/casework/membership/{membership.pk}/change/")
    assert "終了日を設定する" in page.content.decode()
    url = f"/admin/casework/membership/{membership.pk}/end/"
    assert "この日から無効" in admin.get(url).content.decode()
    bad = admin.post(url, {"ends_on": "令和元年5月1日", "reason": "異動"})
    assert bad.status_code == 200 and "過去の日付" in bad.content.decode()
    day = timezone.localdate() + dt.timedelta(days=30)
    response = admin.post(url, {"ends_on": f"{day.year}-{day.month:02d}-{day.day:02d}", "reason": "人事異動"})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.ends_on == day and membership.end_reason == "人事異動" and membership.is_active
    listing = admin.get("/admin/casework/membership/").content.decode()
    assert "終了予定" in listing
    # Other roles never reach it.
    assert login(personas.caseworker_a).get(url).status_code == 302
    Membership.objects.filter(pk=membership.pk).update(ends_on=timezone.localdate())
    assert admin.get(url).status_code == 200  # the administrator's own membership still holds


@pytest.mark.django_db
def test_an_administrator_past_their_end_date_loses_the_admin_site(personas, login, monkeypatch):
    membership = personas.administrator.memberships.get()
    membership.ends_on = timezone.localdate() + dt.timedelta(days=1)
    membership.save()
    today = timezone.localdate()
    travel_to(monkeypatch, today, dt.time(23, 58))
    client = login(personas.administrator)
    assert client.get("/admin/auth/user/").status_code == 200
    travel_to(monkeypatch, today + dt.timedelta(days=1), dt.time(0, 2))
    response = client.get("/admin/auth/user/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
