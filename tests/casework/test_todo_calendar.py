"""やること and the calendar: computed from the data, within the viewer's reach, sorted, overdue marked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from casework.models import SupportPlan
from tests.factories import make_referral

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviews(personas, case_a):
    today = timezone.localdate()
    SupportPlan.objects.create(
        case=case_a,
        version=1,
        goals="x",
        created_by=personas.caseworker_a,
        status=SupportPlan.Status.SUPERSEDED,
        next_review_on=today - timedelta(days=40),
    )
    overdue = SupportPlan.objects.create(
        case=case_a,
        version=2,
        goals="x",
        created_by=personas.caseworker_a,
        status=SupportPlan.Status.APPROVED,
        next_review_on=today - timedelta(days=3),
    )
    return overdue


def test_the_lead_workers_todo_lists_the_review_marked_overdue(personas, login, case_a, reviews):
    page = login(personas.caseworker_a).get(reverse("casework:todo")).content.decode()
    assert f"ケース {case_a.number} 支援プラン第2版の見直し" in page
    assert "期限超過" in page
    assert "第1版" not in page  # a superseded plan's date is not a to-do
    # Numbers and kinds only: no person's name on the page's rows.
    for person in case_a.subjects.all():
        assert person.family_name not in page.split("<main", 1)[1]


def test_another_organization_sees_nothing_of_the_case(personas, login, case_a, reviews):
    page = login(personas.caseworker_b).get(reverse("casework:todo") + "?scope=organization").content.decode()
    assert case_a.number not in page
    calendar = login(personas.caseworker_b).get(
        reverse("casework:calendar") + f"?date={reviews.next_review_on.isoformat()}"
    )
    assert case_a.number not in calendar.content.decode()


def test_the_calendar_shows_the_review_in_month_week_and_list(personas, login, case_a, reviews):
    client = login(personas.caseworker_a)
    day = reviews.next_review_on.isoformat()
    for mode in ("month", "week", "list"):
        response = client.get(reverse("casework:calendar"), {"view": mode, "date": day})
        assert response.status_code == 200
        assert case_a.number in response.content.decode(), mode


def test_a_bad_date_falls_back_to_today(personas, login):
    response = login(personas.caseworker_a).get(
        reverse("casework:calendar"), {"date": "２０２６-１３-４０", "view": "x"}
    )
    assert response.status_code == 200


@pytest.mark.parametrize("view", ["month", "week", "list"])
@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_the_first_and_last_dates_python_knows_answer_a_page_not_a_500(personas, login, view, day):
    response = login(personas.caseworker_a).get(reverse("casework:calendar"), {"date": day, "view": view})
    assert response.status_code == 200


def test_a_referral_to_answer_is_the_receivers_todo_and_the_senders_calendar(personas, login, case_a):
    due = timezone.localdate() + timedelta(days=5)
    referral = make_referral(
        case=case_a, by=personas.caseworker_a, sender=personas.window_a, receiver=personas.window_b, due_on=due
    )
    receiver = login(personas.caseworker_b).get(reverse("casework:todo") + "?scope=organization").content.decode()
    assert f"#{referral.pk} への回答" in receiver
    sender_todo = login(personas.caseworker_a).get(reverse("casework:todo")).content.decode()
    assert f"#{referral.pk}" not in sender_todo
    sender_calendar = login(personas.caseworker_a).get(
        reverse("casework:calendar"), {"view": "list", "date": due.isoformat()}
    )
    assert f"#{referral.pk} の回答待ち" in sender_calendar.content.decode()


def test_auditors_have_no_todo(personas, login):
    assert login(personas.auditor).get(reverse("casework:todo")).status_code == 404
