"""A real browser: a live refresh never replaces a form the chair has changed (issue 16, item 2).

Choosing 役割分担・対応 and clicking elsewhere used to let the next live event swap the fragment, so the
select was back on プランの承認 and submitting recorded (and carried out) a plan approval.
"""

import concurrent.futures

import pytest
from django.conf import settings
from django.db import connection
from playwright.sync_api import expect

from meetings import services as ms
from meetings.models import AgendaItem, Decision
from tests.meetings.conftest import session_cookie

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOTICE = "他の参加者が更新しました。入力中の内容は保たれています"


def _page(browser, server, user):
    context = browser.new_context(base_url=server.url, locale="ja-JP")
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session_cookie(user), "url": server.url}])
    return context.new_page()


def _secretary_writes(item, text, by):
    """Save notes as the secretary, in a thread of its own as a server would (Playwright's loop runs here)."""

    def write():
        try:
            item.refresh_from_db()
            ms.agenda_item_note(item=item, notes=text, based_on_version=item.version, by=by)
        finally:
            connection.close()

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(write).result()


def _open_with_changed_form(daphne_servers, browser, personas, layered):
    ms.meeting_start(meeting=layered, by=personas.chair)
    item = AgendaItem.objects.get(meeting=layered)
    chair = _page(browser, daphne_servers[0], personas.chair)
    chair.goto(f"/meetings/{layered.pk}/")
    expect(chair.locator("#live-status")).to_have_text("ライブ更新: 接続中", timeout=15000)
    form = chair.locator(f"#item-{item.pk} form.decision-form")
    form.locator("select[name=kind]").select_option("action")
    form.locator("textarea[name=text]").fill("就労準備支援につなぐ")
    form.locator("select[name=action_organization]").select_option(str(personas.window_b.pk))
    # Leave the form: the focus is no longer in it, but what was changed must stay.
    chair.locator("h1").click()
    return chair, item, form


def test_a_changed_decision_form_survives_live_events(daphne_servers, browser, personas, layered, case_a):
    chair, item, form = _open_with_changed_form(daphne_servers, browser, personas, layered)

    # Two changes by another participant (the secretary) arrive while the chair's form is changed.
    _secretary_writes(item, "家族の意向を確認した", personas.coordinator)
    _secretary_writes(item, "家族の意向を確認した。次回は本人も同席", personas.coordinator)
    layered.refresh_from_db()
    # The rest of the page follows the meeting: the new version and the secretary's notes are shown.
    expect(chair.locator("#meeting-version")).to_have_text(str(layered.version), timeout=10000)
    expect(chair.locator(f"#item-{item.pk} .notes")).to_contain_text("次回は本人も同席")
    expect(form.locator("select[name=kind]")).to_have_value("action")
    expect(form.locator("textarea[name=text]")).to_have_value("就労準備支援につなぐ")
    expect(chair.get_by_text(NOTICE)).to_be_visible()

    form.get_by_role("button", name="決定を記録する").click()
    expect(chair.locator(f"#item-{item.pk} .action-item")).to_contain_text("就労準備支援につなぐ", timeout=10000)
    decisions = list(Decision.objects.filter(item=item).values_list("kind", flat=True))
    assert decisions == [Decision.Kind.ACTION]
    case_a.refresh_from_db()
    assert case_a.state == "planning", "the plan must not have been approved"
    # Saving brought the fresh version: the notice is gone and the form is the empty one again.
    expect(chair.get_by_text(NOTICE)).to_have_count(0)
    expect(form.locator("select[name=kind]")).not_to_have_value("action")


def test_discarding_the_input_brings_the_fresh_version(daphne_servers, browser, personas, layered, case_a):
    chair, item, form = _open_with_changed_form(daphne_servers, browser, personas, layered)
    _secretary_writes(item, "家族の意向を確認した", personas.coordinator)
    expect(chair.get_by_text(NOTICE)).to_be_visible(timeout=10000)
    expect(form.locator("select[name=kind]")).to_have_value("action")

    chair.get_by_role("button", name="入力を取り消す").click()
    expect(chair.get_by_text(NOTICE)).to_have_count(0)
    expect(form.locator("textarea[name=text]")).to_have_value("")
    expect(form.locator("select[name=kind]")).not_to_have_value("action")
    expect(chair.locator(f"#item-{item.pk} .notes")).to_contain_text("家族の意向を確認した")
    assert not Decision.objects.filter(item=item).exists()
