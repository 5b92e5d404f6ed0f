"""Session lifetime and ending an account's sessions."""

import time

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from casework.accounts.sessions import SESSION_STARTED_KEY
from casework.services.memberships import membership_end


@pytest.mark.django_db
@override_settings(SESSION_ABSOLUTE_HOURS=1)
def test_a_session_older_than_the_absolute_limit_is_signed_out(personas, password):
    client = Client()
    client.post(reverse("login"), {"username": "cw_a", "password": password})
    assert client.get("/").status_code == 200
    session = client.session
    session[SESSION_STARTED_KEY] = int(time.time()) - 3601
    session.save()
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert client.get("/").status_code == 302


@pytest.mark.django_db
def test_deactivating_a_user_ends_their_sessions(personas, login):
    from django.contrib.sessions.models import Session

    login(personas.caseworker_a)
    login(personas.caseworker_b)
    assert Session.objects.count() == 2
    personas.caseworker_a.is_active = False
    personas.caseworker_a.save()
    remaining = [s.get_decoded().get("_auth_user_id") for s in Session.objects.all()]
    assert remaining == [str(personas.caseworker_b.pk)]


@pytest.mark.django_db
def test_ending_a_membership_ends_the_users_sessions(personas, login):
    client = login(personas.caseworker_a)
    membership = personas.caseworker_a.memberships.get()
    membership_end(membership=membership)
    assert client.get("/").status_code == 302


@pytest.mark.django_db
def test_an_administrator_ends_a_users_sessions_from_the_admin(personas, login):
    victim = login(personas.caseworker_a)
    admin_client = login(personas.administrator)
    response = admin_client.post(
        "/admin/auth/user/",
        {"action": "end_sessions", "_selected_action": [personas.caseworker_a.pk]},
    )
    assert response.status_code == 302
    assert victim.get("/").status_code == 302


@pytest.mark.django_db
def test_an_idle_session_expires_and_an_active_one_slides_once_a_minute(personas, login):
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from casework.accounts.sessions import SESSION_TOUCHED_KEY

    client = login(personas.caseworker_a)
    assert client.get("/").status_code == 200
    expiry = Session.objects.get().expire_date
    assert client.get("/").status_code == 200
    assert Session.objects.get().expire_date == expiry  # within the minute: not rewritten
    session = client.session
    session[SESSION_TOUCHED_KEY] = int(time.time()) - 61
    session.save()
    Session.objects.update(expire_date=timezone.now() + timezone.timedelta(seconds=30))
    assert client.get("/").status_code == 200
    assert Session.objects.get().expire_date > timezone.now() + timezone.timedelta(minutes=29)
    Session.objects.update(expire_date=timezone.now() - timezone.timedelta(seconds=1))
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
