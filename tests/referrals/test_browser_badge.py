"""A real browser: the café records a visit and the referring caseworker's お知らせ badge counts it, no reload."""

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from referrals import services
from tests.factories import make_referral
from tests.meetings.conftest import daphne_servers, session_cookie  # noqa: F401 - the real-server fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _page(browser, server, user):
    context = browser.new_context(base_url=server.url, locale="ja-JP")
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session_cookie(user), "url": server.url}])
    return context.new_page()


def test_the_caseworkers_badge_counts_the_cafes_visit_without_a_reload(
    daphne_servers,  # noqa: F811
    browser,
    personas,
    case_a,
    place,
):
    referral = make_referral(
        kind="participation", case=case_a, by=personas.caseworker_a, sender=personas.window_a, place=place
    )
    services.referral_move(move="accept", referral=referral, by=personas.place_staff)
    personas.caseworker_a.notifications.update(read_at=timezone.now())  # start from zero

    # Two server processes: the caseworker on one, the café on the other (the event crosses Redis).
    caseworker = _page(browser, daphne_servers[0], personas.caseworker_a)
    cafe = _page(browser, daphne_servers[1], personas.place_staff)
    caseworker.goto("/")
    badge = caseworker.locator(".notification-badge [data-unread]")
    expect(badge).to_have_text("0")
    caseworker.wait_for_timeout(1000)  # the badge's socket opens after the page

    cafe.goto(referral.get_absolute_url())
    form = cafe.locator(f"form[action='/referrals/{referral.pk}/stages/']")
    form.locator("select[name=stage]").select_option("visit")
    form.locator("input[name=on]").fill(timezone.localdate().isoformat())
    form.get_by_role("button", name="段階を記録").click()
    cafe.wait_for_load_state()

    expect(badge).to_have_text("1", timeout=5000)
    assert caseworker.evaluate("performance.getEntriesByType('navigation').length") == 1, "no reload"
    caseworker.context.close()
    cafe.context.close()
