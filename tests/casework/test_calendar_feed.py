"""The personal calendar feed (ICS): a secret, revocable URL; RFC 5545; numbers and kinds only; every fetch logged."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from casework.models import AccessLog, CalendarFeed, Membership, Person, SupportPlan
from casework.services.personal import calendar_feed_issue, calendar_feed_revoke
from tests.factories import make_meeting

pytestmark = pytest.mark.django_db


@pytest.fixture
def review(personas, case_a):
    return SupportPlan.objects.create(
        case=case_a,
        version=1,
        goals="x",
        created_by=personas.caseworker_a,
        status=SupportPlan.Status.APPROVED,
        next_review_on=timezone.localdate() + timedelta(days=5),
    )


def _issue(login, user) -> tuple[Client, str]:
    client = login(user)
    response = client.post(reverse("casework:calendar_feed_new"))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    url = re.search(r'<code id="feed-url">([^<]+)</code>', response.content.decode()).group(1)
    return client, url


def _fetch(url: str):
    return Client().get(url.replace("http://testserver", ""))


def test_a_caseworker_gets_a_url_once_and_the_feed_parses_as_rfc_5545(personas, login, case_a, review):
    client, url = _issue(login, personas.caseworker_a)
    feed = CalendarFeed.objects.get(user=personas.caseworker_a)
    assert url.split("/")[-1].removesuffix(".ics") not in str(feed.__dict__), "only the digest is stored"
    assert "feed-url" not in client.get(reverse("casework:personal_settings")).content.decode(), "shown once"
    response = _fetch(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "no-store" in response["Cache-Control"]
    calendar = Calendar.from_ical(response.content)
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"]
    events = list(calendar.walk("VEVENT"))
    summaries = [str(event["SUMMARY"]) for event in events]
    assert f"見直し日 ケース {case_a.number} 支援プラン第1版の見直し" in summaries
    for event in events:
        assert event["UID"] and event["DTSTAMP"] and event["DTSTART"]
    assert b"\r\n" in response.content  # RFC 5545 line endings


def test_titles_carry_numbers_and_kinds_never_a_name_or_a_meetings_free_text(personas, login, case_a, review):
    make_meeting(
        chair=personas.chair,
        participants=[personas.caseworker_a],
        title="山田太郎さんの支援について",
        starts_at=timezone.now() + timedelta(days=2),
    )
    _client, url = _issue(login, personas.caseworker_a)
    body = _fetch(url).content.decode()
    summaries = [str(e["SUMMARY"]) for e in Calendar.from_ical(body).walk("VEVENT")]
    assert any(s.startswith("重層的支援会議 会議 #") for s in summaries), summaries
    unfolded = body.replace("\r\n ", "")
    assert "山田" not in unfolded and "支援について" not in unfolded
    names = set()
    for person in Person.objects.all():
        names |= {person.family_name, person.given_name, person.family_name_kana, person.given_name_kana}
    for user in get_user_model().objects.all():
        names |= {user.last_name, user.first_name}
    assert not [name for name in names if name and name in unfolded]


def test_no_demo_name_appears_in_any_demo_users_feed():
    call_command("seed_demo", stdout=io.StringIO())
    names = set()
    for person in Person.objects.all():
        names |= {person.family_name, person.given_name, f"{person.family_name}{person.given_name}"}
    for user in get_user_model().objects.all():
        names |= {user.last_name, user.first_name}
    names.discard("")
    fetched = 0
    for username in ("houkatsu_sato", "houkatsu_boss", "cafe_kato", "kodomo_tanaka", "city_yamamoto"):
        user = get_user_model().objects.get(username=username)
        _feed, secret = calendar_feed_issue(by=user)
        response = Client().get(reverse("casework:calendar_feed", args=[secret]))
        assert response.status_code == 200, username
        body = response.content.decode().replace("\r\n ", "")
        Calendar.from_ical(response.content)
        assert not [name for name in names if name in body], username
        fetched += body.count("BEGIN:VEVENT")
    assert fetched > 0, "the demo feeds hold events"


def test_each_fetch_writes_an_access_log_row_naming_the_persons_and_not_the_secret(personas, login, case_a, review):
    _client, url = _issue(login, personas.caseworker_a)
    secret = url.rsplit("/", 1)[1].removesuffix(".ics")
    before = AccessLog.objects.filter(object_type="calendar_feed", action=AccessLog.Action.EXPORT).count()
    _fetch(url)
    _fetch(url)
    rows = AccessLog.objects.filter(object_type="calendar_feed", action=AccessLog.Action.EXPORT).order_by("id")
    assert rows.count() == before + 2
    row = rows.last()
    assert row.actor == personas.caseworker_a
    assert row.auth_strength == AccessLog.AuthStrength.FEED_TOKEN
    assert set(row.person_ids) == set(case_a.subjects.values_list("id", flat=True))
    assert secret not in row.path and secret not in row.reason
    assert not AccessLog.objects.filter(path__contains=secret).exists()


def test_regenerating_revokes_the_old_url(personas, login, review):
    client, first = _issue(login, personas.caseworker_a)
    second = re.search(
        r'<code id="feed-url">([^<]+)</code>', client.post(reverse("casework:calendar_feed_new")).content.decode()
    ).group(1)
    assert first != second
    assert _fetch(first).status_code == 404
    assert _fetch(second).status_code == 200
    assert CalendarFeed.objects.filter(user=personas.caseworker_a, revoked_at__isnull=True).count() == 1


def test_a_stopped_feed_answers_404_and_the_refusal_is_logged(personas, login, review):
    client, url = _issue(login, personas.caseworker_a)
    response = client.post(reverse("casework:calendar_feed_stop"))
    assert response.status_code == 302
    assert _fetch(url).status_code == 404
    assert AccessLog.objects.filter(
        object_type="calendar_feed", outcome=AccessLog.Outcome.DENIED, actor=personas.caseworker_a
    ).exists()


def test_a_disabled_account_gets_404(personas, login, review):
    _client, url = _issue(login, personas.caseworker_a)
    get_user_model().objects.filter(pk=personas.caseworker_a.pk).update(is_active=False)
    assert _fetch(url).status_code == 404


def test_an_ended_membership_gets_404(personas, login, review):
    _client, url = _issue(login, personas.caseworker_a)
    Membership.objects.filter(user=personas.caseworker_a).update(ends_on=timezone.localdate() - timedelta(days=1))
    assert _fetch(url).status_code == 404


def test_an_unknown_or_mangled_secret_gets_404_without_a_log_row(db):
    before = AccessLog.objects.count()
    for secret in ("jcal_nothing", "x" * 150, "%00"):
        assert Client().get(f"/calendar/feed/{secret}.ics").status_code == 404
    assert AccessLog.objects.count() == before


def test_the_feed_follows_the_disclosure_rules_at_each_fetch(personas, login, case_a, review):
    _client, url = _issue(login, personas.caseworker_b)
    assert case_a.number not in _fetch(url).content.decode()


def test_the_feed_needs_no_session_and_sets_none(personas, login, review):
    _client, url = _issue(login, personas.caseworker_a)
    response = _fetch(url)
    assert "sessionid" not in response.cookies


def test_staff_without_a_calendar_cannot_issue_a_feed(personas, login):
    client = login(personas.auditor)
    assert client.get(reverse("casework:personal_settings")).status_code == 200
    assert client.post(reverse("casework:calendar_feed_new")).status_code == 404
    assert not CalendarFeed.objects.exists()


def test_revoke_with_no_feed_changes_nothing(personas):
    assert calendar_feed_revoke(by=personas.caseworker_a) == 0
