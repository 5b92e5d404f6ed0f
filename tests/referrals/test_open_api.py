"""The read-only open API: organization tokens (scoped, revocable, hashed), HSDS 3.0 places, FHIR R4 Task referrals."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from casework.models import AccessLog, ApiScope, ApiToken
from casework.services.api_tokens import api_token_issue, api_token_revoke
from places.hsds import stable_id
from tests.factories import PlaceFactory, PlaceScheduleFactory, make_case, make_referral
from tests.places.test_hsds import validators

pytestmark = pytest.mark.django_db

ALL = [ApiScope.HSDS, ApiScope.FHIR_TASK]


def _token(org, by, scopes=ALL, **kwargs):
    token, secret = api_token_issue(organization=org, label="統計基盤", scopes=scopes, by=by, **kwargs)
    return token, secret


def _get(secret, url, **params):
    return Client().get(url, params, HTTP_AUTHORIZATION=f"Bearer {secret}")


@pytest.fixture
def world(personas):
    """A's referral to B's window, B's referral to the coordinator, a place with internal fields."""
    case_a = make_case(lead_organization=personas.window_a, by=personas.caseworker_a, family_name="自組織")
    case_b = make_case(lead_organization=personas.window_b, by=personas.caseworker_b, family_name="他機関")
    a_to_coord = make_referral(
        case=case_a, by=personas.caseworker_a, sender=personas.window_a, receiver=personas.coordinator_org
    )
    b_to_coord = make_referral(
        case=case_b, by=personas.caseworker_b, sender=personas.window_b, receiver=personas.coordinator_org
    )
    b_draft = make_referral(
        case=case_b, by=personas.caseworker_b, sender=personas.window_b, receiver=personas.window_a, send=False
    )
    place = PlaceFactory(
        operator=personas.place_operator,
        name="まちの縁側カフェ",
        contact_name="髙田 花子",
        honorarium_terms="1回1,000円",
        contact_email="cafe@example.jp",
    )
    PlaceScheduleFactory(place=place, weekday=2)
    return {"a": a_to_coord, "b": b_to_coord, "b_draft": b_draft, "place": place, "case_b": case_b}


def test_a_token_of_organization_a_never_sees_b_s_referrals(personas, world):
    _token_a, secret = _token(personas.window_a, personas.administrator)
    bundle = _get(secret, reverse("fhir:task_search")).json()
    ids = {e["resource"]["id"] for e in bundle["entry"]}
    assert ids == {str(world["a"].pk)}
    assert bundle["resourceType"] == "Bundle" and bundle["total"] == 1
    # Sent by B to A but never sent: a draft does not reach A either.
    for other in (world["b"], world["b_draft"]):
        assert _get(secret, reverse("fhir:task_read", args=[other.pk])).status_code == 404
    assert "他機関" not in str(bundle)


def test_the_receiver_sees_what_was_sent_to_it_and_the_task_has_fhir_s_required_fields(personas, world):
    _t, secret = _token(personas.coordinator_org, personas.administrator, scopes=[ApiScope.FHIR_TASK])
    bundle = _get(secret, reverse("fhir:task_search"), _count=1).json()
    assert bundle["total"] == 2 and len(bundle["entry"]) == 1
    assert any(link["relation"] == "next" for link in bundle["link"])
    task = _get(secret, reverse("fhir:task_read", args=[world["a"].pk])).json()
    assert task["resourceType"] == "Task"
    assert task["status"] == world["a"].fhir_status == "requested"
    assert task["intent"] == "order"
    assert task["requester"]["display"] == personas.window_a.name
    # Workflow only: no card, no request text, no case.
    text = str(task)
    assert "たろう" not in text and "参加の受け入れ" not in text and "case" not in text


def test_a_returned_referral_is_on_hold_with_business_status_returned(personas, world):
    from referrals import services

    services.referral_move(move="return", referral=world["a"], by=personas.coordinator, reason="情報が足りません")
    _t, secret = _token(personas.window_a, personas.administrator)
    task = _get(secret, reverse("fhir:task_read", args=[world["a"].pk])).json()
    assert task["status"] == "on-hold"
    assert task["businessStatus"]["coding"][0]["code"] == "returned"


def test_a_revoked_token_gets_401_and_so_do_missing_unknown_and_expired_ones(personas, world):
    token, secret = _token(personas.window_a, personas.administrator)
    url = reverse("hsds:services")
    assert _get(secret, url).status_code == 200
    api_token_revoke(token=token, by=personas.administrator)
    assert _get(secret, url).status_code == 401
    assert Client().get(url).status_code == 401
    assert _get("jsu_not-a-token", url).status_code == 401
    expired, expired_secret = _token(personas.window_a, personas.administrator)
    ApiToken.objects.filter(pk=expired.pk).update(expires_on=timezone.localdate() - datetime.timedelta(days=1))
    response = _get(expired_secret, url)
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
    # A signed-in session is not a token.
    from tests.conftest import sign_in

    assert sign_in(personas.caseworker_a).get(url).status_code == 401


def test_a_token_without_the_scope_gets_403(personas, world):
    _t, secret = _token(personas.window_a, personas.administrator, scopes=[ApiScope.HSDS])
    assert _get(secret, reverse("fhir:task_search")).status_code == 403


def test_the_secret_is_stored_only_as_a_digest(personas):
    token, secret = _token(personas.window_a, personas.administrator)
    row = ApiToken.objects.filter(pk=token.pk).values().get()
    assert secret not in str(row)
    assert len(row["digest"]) == 64 and secret.startswith(row["prefix"])


def test_hsds_is_paginated_validates_and_holds_no_personal_or_internal_data(personas, world):
    checks = validators()
    for n in range(3):
        PlaceFactory(operator=personas.place_operator, name=f"サロン{n}")
    _t, secret = _token(personas.window_a, personas.administrator, scopes=[ApiScope.HSDS])
    first = _get(secret, reverse("hsds:services"), per_page=2).json()
    assert first["total_items"] == 4 and first["total_pages"] == 2 and first["first_page"] and not first["last_page"]
    second = _get(secret, reverse("hsds:services"), per_page=2, page=2).json()
    assert second["last_page"] and second["size"] == 2
    for item in first["contents"] + second["contents"]:
        assert not list(checks["service"].iter_errors(item))
    service = _get(secret, reverse("hsds:service", args=[stable_id("service", world["place"].pk)])).json()
    assert not [e.message for e in checks["service"].iter_errors(service)]
    assert not list(checks["organization"].iter_errors(service["organization"]))
    for sal in _get(secret, reverse("hsds:service_at_locations")).json()["contents"]:
        assert not list(checks["service_at_location"].iter_errors(sal))
    orgs = _get(secret, reverse("hsds:organizations")).json()
    assert orgs["contents"] and not list(checks["organization"].iter_errors(orgs["contents"][0]))
    org = _get(secret, reverse("hsds:organization", args=[orgs["contents"][0]["id"]])).json()
    assert org["services"]
    everything = "".join(
        _get(secret, url).content.decode()
        for url in (
            reverse("hsds:services"),
            reverse("hsds:service", args=[stable_id("service", world["place"].pk)]),
            reverse("hsds:organizations"),
            reverse("hsds:service_at_locations"),
        )
    )
    # No person, no internal field of the place.
    assert "髙田" not in everything and "1,000円" not in everything and "cafe@example.jp" not in everything
    assert "自組織" not in everything and "他機関" not in everything and "たろう" not in everything
    assert _get(secret, reverse("hsds:services"), page="x").status_code == 400


def test_every_use_is_logged_with_the_token_s_organization_and_the_persons_shown(personas, world):
    token, secret = _token(personas.window_a, personas.administrator)
    before = AccessLog.objects.count()
    _get(secret, reverse("fhir:task_search"))
    _get(secret, reverse("hsds:services"))
    rows = list(AccessLog.objects.order_by("id")[before:])
    assert len(rows) == 2
    fhir, hsds = rows
    assert fhir.organization_id == personas.window_a.pk and fhir.role == "api"
    assert fhir.auth_strength == "api_token" and fhir.basis_ref == f"apitoken:{token.pk}"
    assert fhir.person_ids == [world["a"].person_id]
    assert hsds.object_type == "hsds_service" and hsds.person_ids == []
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_administrators_issue_and_revoke_tokens_on_their_screen(personas, login):
    client = login(personas.administrator)
    page = client.post(
        reverse("casework:api_tokens"),
        {
            "organization": personas.window_a.pk,
            "label": "BI",
            "scopes": [ApiScope.FHIR_TASK],
            "expires_on": "令和９年３月３１日",
        },
    )
    token = ApiToken.objects.get()
    text = page.content.decode()
    secret = text.split('<code id="api-secret">')[1].split("<")[0]
    assert token.expires_on == datetime.date(2027, 3, 31)
    assert _get(secret, reverse("fhir:task_search")).status_code == 200
    # Shown once: the list does not show it again.
    assert secret not in client.get(reverse("casework:api_tokens")).content.decode()
    client.post(reverse("casework:api_token_revoke", args=[token.pk]))
    assert _get(secret, reverse("fhir:task_search")).status_code == 401
    for user in (personas.caseworker_a, personas.auditor):
        assert login(user).get(reverse("casework:api_tokens")).status_code == 404


def test_the_openapi_description_lists_every_endpoint():
    doc = Client().get(reverse("api_openapi")).json()
    assert doc["openapi"].startswith("3.")
    assert {"/hsds/services", "/hsds/services/{id}", "/fhir/Task", "/fhir/Task/{id}"} <= set(doc["paths"])
