"""Second factor: required for auditors and administrators, half-signed-in sessions reach nothing."""

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from casework.models import AccessLog
from tests.urlwalk import all_urls


def current_code(device: TOTPDevice, offset: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + offset * device.step
    return f"{totp.token():06d}"


def enrolled(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def password_login(username, password) -> Client:
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": password})
    assert response.status_code == 302
    return client


@pytest.mark.django_db
def test_an_auditor_without_a_device_is_sent_to_enrolment(personas, password):
    client = password_login("auditor", password)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == reverse("second_factor_setup")


@pytest.mark.django_db
def test_a_half_signed_in_session_reaches_nothing_but_the_gate(personas, password):
    enrolled(personas.auditor)
    client = password_login("auditor", password)
    checked = 0
    for name, path in all_urls():
        if name in {"login", "healthz", "second_factor_verify", "second_factor_setup", "logout"}:
            continue
        response = client.get(path)
        assert response.status_code in (302, 405), (name, path, response.status_code)
        if response.status_code == 302:
            assert response["Location"] in (reverse("second_factor_verify"), "/login/?next=" + path), (name, path)
        checked += 1
    assert checked >= 3
    assert client.get("/admin/").status_code == 302


@pytest.mark.django_db
def test_a_code_signs_the_auditor_in_fully_and_works_only_once(personas, password):
    device = enrolled(personas.auditor)
    client = password_login("auditor", password)
    code = current_code(device)
    response = client.post(reverse("second_factor_verify"), {"token": code})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert client.get("/").status_code == 200
    row = AccessLog.objects.filter(actor=personas.auditor, object_type="auth.second_factor").get()
    assert row.auth_strength == AccessLog.AuthStrength.SECOND_FACTOR

    again = password_login("auditor", password)
    response = again.post(reverse("second_factor_verify"), {"token": code})
    assert response.status_code == 200
    assert "すでに使われています" in response.content.decode()


@pytest.mark.django_db
def test_a_recovery_code_works_once(personas, password):
    enrolled(personas.auditor)
    from django_otp.plugins.otp_static.models import StaticDevice

    device = StaticDevice.objects.create(user=personas.auditor, name="recovery", confirmed=True)
    StaticToken.objects.create(device=device, token="abcd1234")
    client = password_login("auditor", password)
    assert client.post(reverse("second_factor_verify"), {"token": "abcd1234"}).status_code == 302
    other = password_login("auditor", password)
    assert other.post(reverse("second_factor_verify"), {"token": "abcd1234"}).status_code == 200


@pytest.mark.django_db
def test_enrolment_confirms_the_device_and_shows_recovery_codes(personas, password):
    client = password_login("admin", password)
    page = client.get(reverse("second_factor_setup"))
    assert page.status_code == 200 and "data:image/svg+xml;base64," in page.content.decode()
    pending = TOTPDevice.objects.get(user=personas.administrator, confirmed=False)
    response = client.post(reverse("second_factor_setup"), {"token": current_code(pending)})
    assert response.status_code == 200
    assert "復旧コード" in response.content.decode()
    assert TOTPDevice.objects.filter(user=personas.administrator, confirmed=True).count() == 1
    assert StaticToken.objects.filter(device__user=personas.administrator).count() == 10
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_replacing_the_device_needs_the_password(personas, password):
    device = enrolled(personas.auditor)
    client = password_login("auditor", password)
    client.post(reverse("second_factor_verify"), {"token": current_code(device)})
    client.get(reverse("second_factor_setup"))
    pending = TOTPDevice.objects.get(user=personas.auditor, confirmed=False)
    response = client.post(reverse("second_factor_setup"), {"token": current_code(pending), "password": "wrong"})
    assert "パスワードが正しくありません" in response.content.decode()
    assert TOTPDevice.objects.get(user=personas.auditor, confirmed=True).pk == device.pk


@pytest.mark.django_db
def test_a_caseworker_needs_no_second_factor_unless_the_setting_is_on(personas, password):
    assert password_login("cw_a", password).get("/").status_code == 200
    with override_settings(SECOND_FACTOR_FOR_ALL=True):
        response = password_login("cw_a", password).get("/")
        assert response.status_code == 302 and response["Location"] == reverse("second_factor_setup")
