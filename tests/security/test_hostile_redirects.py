"""Unsafe `next` values never send anyone off-site: login, logout, the second-factor gate, the login wall."""

from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.config.test_second_factor import current_code
from tests.security.corpus import TALLY, UNSAFE_NEXT

pytestmark = pytest.mark.django_db


def assert_stays_on_site(response, unsafe: str) -> None:
    """The redirect (if any) goes to a path of this site, however a browser would read it."""
    TALLY["unsafe next values tried"] += 1
    assert response.status_code < 500, unsafe
    if response.status_code not in {301, 302, 303, 307, 308}:
        assert "evil.example" not in response.get("Location", ""), unsafe
        return
    location = response["Location"]
    # Browsers treat backslashes as slashes and drop tabs and newlines (they never decode %2F into a host).
    as_read = location.replace("\\", "/").replace("\t", "").replace("\n", "").replace("\r", "").strip()
    parts = urlsplit(as_read)
    assert parts.scheme in {"", "http", "https"}, (unsafe, location)
    assert parts.netloc in {"", "testserver"}, (unsafe, location)
    assert not as_read.startswith("//"), (unsafe, location)
    assert "evil.example" not in parts.netloc, (unsafe, location)


# One test walks every value (assertion messages name it): building the personas per value cost a minute.
def test_login_never_redirects_off_site(personas, password):
    for unsafe in UNSAFE_NEXT:
        client = Client()
        page = client.get(reverse("login"), {"next": unsafe})
        assert page.status_code == 200, unsafe
        response = client.post(reverse("login") + "?next=" + unsafe, {"username": "cw_a", "password": password})
        assert_stays_on_site(response, unsafe)
        response = Client().post(reverse("login"), {"username": "cw_a", "password": password, "next": unsafe})
        assert_stays_on_site(response, unsafe)


def test_an_already_signed_in_visit_to_login_never_redirects_off_site(personas, login):
    for unsafe in UNSAFE_NEXT:
        response = login(personas.caseworker_a).get(reverse("login"), {"next": unsafe})
        assert_stays_on_site(response, unsafe)


def test_logout_never_redirects_off_site(personas, login):
    for unsafe in UNSAFE_NEXT:
        client = login(personas.caseworker_a)
        assert_stays_on_site(client.post(reverse("logout"), {"next": unsafe}), unsafe)
        client = login(personas.caseworker_a)
        assert_stays_on_site(client.post(reverse("logout") + "?next=" + unsafe), unsafe)


@pytest.mark.parametrize("unsafe", UNSAFE_NEXT)
def test_the_second_factor_gate_never_redirects_off_site(personas, login, unsafe):
    device = TOTPDevice.objects.create(user=personas.auditor, name="phone", confirmed=True)
    client = login(personas.auditor, second_factor=False)
    response = client.post(
        reverse("second_factor_verify") + "?next=" + unsafe, {"token": current_code(device), "next": unsafe}
    )
    assert_stays_on_site(response, unsafe)
    assert response.status_code == 302  # the code was right: signed in, just not sent away


def test_the_login_wall_keeps_an_unsafe_path_on_site(personas, password):
    for unsafe in UNSAFE_NEXT:
        client = Client()
        response = client.get("/" + unsafe.lstrip("/"))
        assert_stays_on_site(response, unsafe)
        if response.status_code == 302:
            response = client.post(response["Location"], {"username": "cw_a", "password": password})
            assert_stays_on_site(response, unsafe)
