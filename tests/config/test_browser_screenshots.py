"""Screenshots of the day's main screens at 1366 and 390 px (var/screenshots/, not committed), none scrolling sideways.

A reviewer looks at the files; the test checks what a phone on an outreach visit needs: at 390 px wide no page
is wider than the screen (issue 16).
"""

from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import give_layered_consent, make_meeting, make_meeting_case, make_referral, put_on_agenda
from tests.meetings.conftest import session_cookie

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
WIDTHS = (1366, 390)
# The widest element sticking out, for the failure message.
WIDEST = """() => {
  const width = document.documentElement.clientWidth;
  let worst = null;
  for (const el of document.querySelectorAll("body *")) {
    const box = el.getBoundingClientRect();
    if (box.right > width + 1 && (!worst || box.right > worst.right)) {
      worst = {right: Math.round(box.right), tag: el.tagName, cls: el.className, id: el.id};
    }
  }
  return worst;
}"""


@pytest.fixture
def screens(personas, case_a, place):
    referral = make_referral(
        kind="participation", case=case_a, by=personas.caseworker_a, sender=personas.window_a, place=place
    )
    meeting_case = make_meeting_case(
        lead_organization=personas.window_a, lead_worker=personas.caseworker_a, state="planning"
    )
    give_layered_consent(meeting_case, by=personas.caseworker_a)
    meeting = make_meeting(
        chair=personas.chair,
        secretary=personas.coordinator,
        participants=[personas.caseworker_a],
        kind="layered_meeting",
    )
    put_on_agenda(meeting=meeting, case=meeting_case, purpose="plan_agreement", by=personas.chair)
    return [
        ("home", personas.caseworker_a, "/"),
        ("case", personas.caseworker_a, case_a.get_absolute_url()),
        ("referral", personas.caseworker_a, referral.get_absolute_url()),
        ("meeting", personas.chair, meeting.get_absolute_url()),
        ("dashboard", personas.chair, "/indicators/"),
    ]


@pytest.mark.parametrize("width", WIDTHS)
def test_the_main_screens_fit_the_width_and_are_saved_as_screenshots(live_server, browser, screens, width):
    SHOTS.mkdir(parents=True, exist_ok=True)
    too_wide = []
    for name, user, url in screens:
        context = browser.new_context(
            base_url=live_server.url, locale="ja-JP", viewport={"width": width, "height": 900}
        )
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session_cookie(user), "url": live_server.url}]
        )
        page = context.new_page()
        try:
            response = page.goto(url)
            assert response.status == 200, (name, response.status)
            page.wait_for_load_state("load")
            page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
            scroll = page.evaluate("document.documentElement.scrollWidth")
            if scroll > width:
                too_wide.append((name, scroll, page.evaluate(WIDEST)))
        finally:
            context.close()
    assert not too_wide, too_wide
