"""Closing a case lists what is still open and applies the lead's choice for each (issue 16, item 8)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from casework.models import Case, CaseState
from casework.services.cases import case_transition
from referrals.models import ReferralState
from tests.factories import make_referral

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _closing_applies_at_once(settings):
    # What closing does to the open things, with 決裁 switched off; tests/casework/test_approvals.py has it on.
    settings.APPROVAL_CLOSURE = False
    settings.APPROVAL_SUSPENSION = False


@pytest.fixture
def in_support(personas, case_a):
    by = personas.caseworker_a
    case = case_a
    for state in ("assessment", "planning", "in_support"):
        case = case_transition(case=case, to_state=state, by=by)
    Case.objects.filter(pk=case.pk).update(next_review_on=timezone.localdate() + datetime.timedelta(days=20))
    case.refresh_from_db()
    return case


@pytest.fixture
def open_referral(personas, in_support):
    return make_referral(
        kind="inter_agency",
        case=in_support,
        by=personas.caseworker_a,
        sender=personas.window_a,
        receiver=personas.window_b,
    )


def _url(case):
    return reverse("casework:transition", args=[case.pk])


def test_the_closing_form_lists_open_referrals_and_the_review_date(personas, in_support, open_referral, login):
    page = login(personas.caseworker_a).get(_url(in_support) + "?to=closed").content.decode()
    assert "終わっていないもの" in page
    assert f"#{open_referral.pk}" in page and personas.window_b.name in page
    assert "次回見直し日" in page and "取り下げる" in page


def test_closing_without_choosing_changes_nothing_and_names_what_is_open(personas, in_support, open_referral, login):
    response = login(personas.caseworker_a).post(
        _url(in_support), {"to_state": "closed", "reason": "目標達成", "expected_version": in_support.version}
    )
    assert response.status_code == 200
    assert "扱いを選んでください" in response.content.decode()
    in_support.refresh_from_db()
    open_referral.refresh_from_db()
    assert in_support.state == CaseState.IN_SUPPORT and open_referral.state == ReferralState.REQUESTED


def test_closing_withdraws_the_referral_and_clears_the_review_date_as_chosen(
    personas, in_support, open_referral, login
):
    response = login(personas.caseworker_a).post(
        _url(in_support),
        {
            "to_state": "closed",
            "reason": "目標達成",
            "expected_version": in_support.version,
            f"open-referral-{open_referral.pk}": "cancel",
            "open-review": "clear",
        },
        follow=True,
    )
    in_support.refresh_from_db()
    open_referral.refresh_from_db()
    assert in_support.state == CaseState.CLOSED and in_support.next_review_on is None
    assert open_referral.state == ReferralState.CANCELLED
    assert "取り下げました" in response.content.decode() and "次回見直し日" in response.content.decode()


def test_keeping_them_is_a_choice_too(personas, in_support, open_referral, login):
    login(personas.caseworker_a).post(
        _url(in_support),
        {
            "to_state": "suspended",
            "reason": "入院のため",
            "expected_version": in_support.version,
            f"open-referral-{open_referral.pk}": "keep",
            "open-review": "keep",
        },
    )
    in_support.refresh_from_db()
    open_referral.refresh_from_db()
    assert in_support.state == CaseState.SUSPENDED and in_support.next_review_on is not None
    assert open_referral.state == ReferralState.REQUESTED
