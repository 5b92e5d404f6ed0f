"""Login lockout is keyed on username and IP together."""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse


def attempt(ip: str, username: str, password: str):
    return Client(REMOTE_ADDR=ip).post(reverse("login"), {"username": username, "password": password})


@pytest.mark.django_db
def test_repeated_failures_lock_that_username_from_that_ip(personas, password):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt("203.0.113.5", "cw_a", "wrong-password")
    response = attempt("203.0.113.5", "cw_a", password)
    assert response.status_code == 429
    assert "ログインが一時的に停止されています" in response.content.decode()


@pytest.mark.django_db
def test_the_same_username_from_another_ip_can_still_sign_in(personas, password):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt("203.0.113.5", "cw_a", "wrong-password")
    response = attempt("198.51.100.7", "cw_a", password)
    assert response.status_code == 302


@pytest.mark.django_db
def test_a_colleague_at_the_same_office_ip_is_not_locked_out(personas, password):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt("203.0.113.5", "cw_a", "wrong-password")
    response = attempt("203.0.113.5", "cw_b", password)
    assert response.status_code == 302


@pytest.mark.django_db
def test_a_username_longer_than_the_field_gets_a_message_not_a_500(personas):
    # django-axes stores the username (255 characters) before the password is even checked.
    response = attempt("203.0.113.5", "長" * 1000, "wrong-password")
    assert response.status_code == 200
    assert "文字以下" in response.content.decode()
