"""A real browser (Debian chromium) signs in through the Japanese login page."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_caseworker_signs_in_with_a_real_browser_and_sees_their_home(live_server, page, personas, password):
    page.goto(f"{live_server.url}/")
    assert page.url.startswith(f"{live_server.url}/login/")
    page.get_by_label("ログインID").fill("cw_a")
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.get_by_role("heading", name="ホーム").is_visible()
    assert "地域包括支援センター東" in page.content()


def test_the_page_runs_without_content_security_policy_violations(live_server, page, personas):
    violations = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.goto(f"{live_server.url}/login/")
    page.wait_for_load_state("networkidle")
    assert violations == []
