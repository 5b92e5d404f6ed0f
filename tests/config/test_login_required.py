"""Every URL requires a signed-in, active user; sign-in itself is safe."""

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from tests.urlwalk import all_urls

# api_openapi: the open API's description (paths and schemas, no data) is public, as such descriptions are.
PUBLIC = {"login", "healthz", "api_openapi"}
# The open API is for other systems, not browsers: without a token it answers 401 (never the login page,
# never data); tests/referrals/test_open_api.py checks its tokens.
API_NAMESPACES = ("hsds:", "fhir:")


@pytest.mark.django_db
def test_every_url_sends_anonymous_visitors_to_the_login_page():
    client = Client()
    checked = 0
    for name, path in all_urls():
        if name in PUBLIC:
            continue
        response = client.get(path)
        if name.startswith(API_NAMESPACES):
            assert response.status_code == 401, (name, path, response.status_code)
            assert response["Content-Type"].startswith("application/json"), (name, path)
            checked += 1
            continue
        assert response.status_code in (302, 404, 405), (name, path, response.status_code)
        if response.status_code == 302:
            assert response["Location"].startswith(reverse("login")), (name, path)
        checked += 1
    assert checked >= 3
    print(f"login-required check: {checked} URLs")


@pytest.mark.django_db
def test_the_login_page_is_japanese():
    response = Client().get(reverse("login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'lang="ja"' in html
    assert "ログインID" in html and "パスワード" in html


@pytest.mark.django_db
def test_a_user_signs_in_with_the_password_and_reaches_home(personas, password):
    client = Client()
    response = client.post(reverse("login"), {"username": "cw_a", "password": password})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    home = client.get(reverse("home"))
    assert home.status_code == 200
    assert "地域包括支援センター東" in home.content.decode()


@pytest.mark.django_db
def test_the_session_key_changes_at_login(personas, password):
    client = Client()
    client.get(reverse("login"))
    client.cookies["sessionid"] = "attacker-chosen"
    client.post(reverse("login"), {"username": "cw_a", "password": password})
    assert client.cookies["sessionid"].value != "attacker-chosen"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "next_url",
    [
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example",
        "javascript:alert(1)",
        "https://evil.example/",
        "http:/evil.example",
        " //evil.example",
        "/%2F%2Fevil.example",
    ],
)
def test_an_unsafe_next_never_leaves_the_site(personas, password, next_url):
    client = Client()
    response = client.post(reverse("login"), {"username": "cw_a", "password": password, "next": next_url})
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\"))
    assert "evil.example" not in location or location.startswith("/%2F")


@pytest.mark.django_db
def test_a_safe_next_is_followed(personas, password):
    client = Client()
    response = client.post(reverse("login"), {"username": "cw_a", "password": password, "next": "/places/"})
    assert response["Location"] == "/places/"


@pytest.mark.django_db
def test_a_deactivated_users_session_stops_working(personas, login):
    client = login(personas.caseworker_a)
    assert client.get(reverse("home")).status_code == 200
    personas.caseworker_a.is_active = False
    personas.caseworker_a.save()
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_a_deactivated_user_cannot_sign_in(personas, password):
    response = Client().post(reverse("login"), {"username": "deactivated", "password": password})
    assert response.status_code == 200
    assert "_auth_user_id" not in Client().session


@pytest.mark.django_db
def test_logging_out_ends_the_session(personas, login):
    client = login(personas.caseworker_a)
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302


@pytest.mark.django_db
@override_settings(SESSION_COOKIE_AGE=60)
def test_the_session_cookie_expires_after_the_idle_time(personas, password):
    client = Client()
    client.post(reverse("login"), {"username": "cw_a", "password": password})
    response = client.get(reverse("home"))
    assert client.session.get_expiry_age() <= 60
    assert response.status_code == 200


@pytest.mark.django_db
def test_the_idle_session_is_refused_once_expired(personas, password):
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    client = Client()
    client.post(reverse("login"), {"username": "cw_a", "password": password})
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    assert client.get(reverse("home")).status_code == 302
