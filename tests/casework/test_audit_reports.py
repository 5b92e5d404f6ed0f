"""Review reports: break-glass, outside the caseload, off-hours bulk access, denied spikes, unused accounts; chain status."""

from datetime import datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from casework.audit import log_access
from casework.audit.selectors import BULK_PERSONS, DENIED_SPIKE
from casework.models import AccessLog

TOKYO = ZoneInfo("Asia/Tokyo")
# A Wednesday, so weekday rules apply; the report period below covers the whole week.
WEDNESDAY = datetime(2025, 6, 4, tzinfo=TOKYO)
PERIOD = {"date_from": "2025-06-01", "date_to": "2025-06-08"}


def at(moment: datetime, **kwargs) -> AccessLog:
    """Write a log row as if at that moment."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        return log_access(**kwargs)


def report(client, slug, params=None):
    return client.get(reverse("audit:report", args=[slug]), params if params is not None else PERIOD)


def reported_ids(response) -> set[int]:
    return {row.id for row in response.context["rows"]}


@pytest.mark.django_db
def test_break_glass_uses_are_listed(personas, login):
    noon = WEDNESDAY.replace(hour=12)
    used = at(
        noon,
        actor=personas.caseworker_b,
        action=AccessLog.Action.VIEW,
        object_type="case",
        object_id=3,
        person_ids=[8],
        basis=AccessLog.Basis.BREAK_GLASS,
        reason="夜間に本人から助けを求める電話があったため",
    )
    at(noon, actor=personas.caseworker_a, action=AccessLog.Action.VIEW, basis=AccessLog.Basis.OWN_ORGANIZATION)
    response = report(login(personas.auditor), "break-glass")
    assert response.status_code == 200
    assert reported_ids(response) == {used.id}
    assert "夜間に本人から助けを求める電話があったため" in response.content.decode()
    own = AccessLog.objects.get(actor=personas.auditor)
    assert (own.action, own.object_id, own.person_ids) == (AccessLog.Action.LIST, "break-glass", [8])


@pytest.mark.django_db
def test_outside_caseload_is_every_basis_but_own_organization_and_every_denial(personas, login):
    noon = WEDNESDAY.replace(hour=12)

    def row(**kwargs):
        return at(noon, actor=personas.caseworker_a, action=AccessLog.Action.VIEW, object_type="case", **kwargs)

    own = row(basis=AccessLog.Basis.OWN_ORGANIZATION, person_ids=[1])
    supervised = row(basis=AccessLog.Basis.SUPERVISION, person_ids=[1])
    consent = row(basis=AccessLog.Basis.CONSENT, person_ids=[2], basis_ref="consent:3")
    meeting = row(basis=AccessLog.Basis.SUPPORT_MEETING, person_ids=[3])
    glass = row(basis=AccessLog.Basis.BREAK_GLASS, person_ids=[4])
    denied = row(outcome=AccessLog.Outcome.DENIED, object_id=9)
    unexplained = row(basis=AccessLog.Basis.NONE, person_ids=[5])
    no_person = row(basis=AccessLog.Basis.NONE)
    response = report(login(personas.auditor), "outside-caseload")
    shown = reported_ids(response)
    assert {consent.id, meeting.id, glass.id, denied.id, unexplained.id} == shown
    assert not {own.id, supervised.id, no_person.id} & shown
    assert "担当外" in response.content.decode()


@pytest.mark.django_db
def test_off_hours_bulk_views_and_exports_are_listed(personas, login):
    many = list(range(1, BULK_PERSONS + 1))
    few = list(range(1, BULK_PERSONS))

    def row(moment, action, persons):
        return at(moment, actor=personas.caseworker_a, action=action, object_type="case", person_ids=persons)

    late_list = row(WEDNESDAY.replace(hour=21), AccessLog.Action.LIST, many)
    early_export = row(WEDNESDAY.replace(hour=6, minute=59), AccessLog.Action.EXPORT, [1])
    saturday_search = row(WEDNESDAY.replace(day=7, hour=11), AccessLog.Action.SEARCH, many)
    late_small_list = row(WEDNESDAY.replace(hour=22), AccessLog.Action.LIST, few)
    office_export = row(WEDNESDAY.replace(hour=7), AccessLog.Action.EXPORT, many)
    late_single_view = row(WEDNESDAY.replace(hour=23), AccessLog.Action.VIEW, many)
    shown = reported_ids(report(login(personas.auditor), "off-hours"))
    assert {late_list.id, early_export.id, saturday_search.id} == shown
    assert not {late_small_list.id, office_export.id, late_single_view.id} & shown


@pytest.mark.django_db
def test_denied_spikes_are_counted_per_account_per_hour(personas, login):
    ten = WEDNESDAY.replace(hour=10)
    for minute in range(DENIED_SPIKE):
        at(ten.replace(minute=minute * 10), actor=personas.caseworker_a, action=AccessLog.Action.DENIED,
           outcome=AccessLog.Outcome.DENIED, object_type="case", object_id=minute)  # fmt: skip
    # One fewer for another account, and the same account's denials split across two hours.
    for minute in range(DENIED_SPIKE - 1):
        at(ten.replace(minute=minute), actor=personas.caseworker_b, action=AccessLog.Action.DENIED,
           outcome=AccessLog.Outcome.DENIED)  # fmt: skip
    at(ten.replace(hour=11), actor=personas.caseworker_a, action=AccessLog.Action.DENIED,
       outcome=AccessLog.Outcome.DENIED)  # fmt: skip
    response = report(login(personas.auditor), "denied-spikes")
    [spike] = response.context["spikes"]
    assert (spike.actor_username, spike.count, spike.organization) == ("cw_a", DENIED_SPIKE, "地域包括支援センター東")
    assert timezone.localtime(spike.hour, TOKYO).hour == 10
    assert "10:00〜" in response.content.decode()


@pytest.mark.django_db
def test_unused_accounts_are_active_ones_without_a_login_for_90_days(personas, login):
    now = timezone.now()
    type(personas.caseworker_b).objects.filter(pk=personas.caseworker_b.pk).update(last_login=now - timedelta(days=91))
    type(personas.supervisor_a).objects.filter(pk=personas.supervisor_a.pk).update(last_login=now - timedelta(days=10))
    response = report(login(personas.auditor), "unused-accounts", {})
    names = {user.username for user in response.context["accounts"]}
    assert {"cw_a", "cw_b", "coord"} <= names
    assert not {"sv_a", "auditor", "deactivated"} & names
    assert "未ログイン" in response.content.decode()


@pytest.mark.django_db
def test_report_periods_are_checked(personas, login):
    client = login(personas.auditor)
    assert report(client, "break-glass", {"date_from": "2024-01-01", "date_to": "2025-06-01"}).status_code == 400
    assert report(client, "break-glass", {"date_from": "R7.6.1", "date_to": "令和7年6月8日"}).status_code == 200
    response = report(client, "off-hours", {"date_from": "昭和", "date_to": ""})
    assert response.status_code == 400 and "日付として読めません" in response.content.decode()
    assert report(client, "no-such-report").status_code == 404


@pytest.mark.django_db
def test_the_default_period_is_the_last_30_days(personas, login):
    row = log_access(actor=personas.caseworker_a, action=AccessLog.Action.VIEW, basis=AccessLog.Basis.BREAK_GLASS)
    response = report(login(personas.auditor), "break-glass", {})
    assert response.status_code == 200 and reported_ids(response) == {row.id}


@pytest.mark.django_db
def test_chain_status_shows_a_good_chain_and_then_the_tampered_row(personas, login):
    rows = [log_access(actor=personas.caseworker_a, action=AccessLog.Action.VIEW, object_id=i) for i in range(3)]
    client = login(personas.auditor)
    response = client.get(reverse("audit:chain"))
    today = response.context["statuses"][0]
    assert (today.day, today.checked, today.problem) == (rows[0].day, 3, None)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE casework_accesslog DISABLE TRIGGER USER")
        cursor.execute("UPDATE casework_accesslog SET object_id = '999' WHERE id = %s", [rows[1].id])
        cursor.execute("ALTER TABLE casework_accesslog ENABLE TRIGGER USER")
    response = client.get(reverse("audit:chain"))
    problem = response.context["statuses"][0].problem
    assert problem.row_id == rows[1].id
    assert f"ID {rows[1].id}" in response.content.decode()
