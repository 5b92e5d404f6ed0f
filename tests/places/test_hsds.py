"""The HSDS 3.0 JSON export validates against the Open Referral schemas kept beside the checkout."""

import json
import os
from pathlib import Path

import pytest
from django.urls import reverse

from tests.factories import PlaceFactory, PlaceScheduleFactory

REPO_ROOT = Path(__file__).resolve().parents[2]


def schema_dir() -> Path | None:
    """Find ../shared/hsds-3.0/schema (CI), $HSDS_SCHEMA_DIR, or /work/shared/hsds-3.0/schema."""
    candidates = [REPO_ROOT.parent / "shared" / "hsds-3.0" / "schema"]
    if os.environ.get("HSDS_SCHEMA_DIR"):
        configured = Path(os.environ["HSDS_SCHEMA_DIR"])
        candidates.insert(0, configured / "schema" if (configured / "schema").is_dir() else configured)
    candidates.append(Path("/work/shared/hsds-3.0/schema"))
    return next((c for c in candidates if (c / "service.json").is_file()), None)


def validators():
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    folder = schema_dir()
    if folder is None:
        pytest.skip(
            "HSDS 3.0 schemas not found: expected ../shared/hsds-3.0/schema beside the checkout "
            "(or set HSDS_SCHEMA_DIR); they are never copied into this repository."
        )
    schemas = {p.name: json.loads(p.read_text()) for p in folder.glob("*.json")}
    registry = Registry().with_resources(
        (name, Resource.from_contents(schema, default_specification=DRAFT202012)) for name, schema in schemas.items()
    )
    return {
        name: Draft202012Validator(
            schemas[f"{name}.json"], registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
        )
        for name in ["organization", "service", "location", "service_at_location", "schedule"]
    }


@pytest.fixture
def directory(personas):
    cafe = PlaceFactory(
        operator=personas.place_operator,
        name="まちの縁側カフェ",
        accommodations=["wheelchair", "written_conversation"],
        contact_phone="0000-11-2222",
        contact_phone_public=True,
        contact_email="cafe@example.jp",
        honorarium_terms="1回1,000円",
        contact_name="髙田 花子",
        latitude="35.681236",
        longitude="139.767125",
        min_age=6,
        max_age=18,
    )
    PlaceScheduleFactory(place=cafe, weekday=5, weeks_of_month=[2, 4])
    PlaceScheduleFactory(place=cafe, weekday=2)
    PlaceFactory(operator=personas.place_operator, name="休止中の居場所", is_active=False)
    return cafe


@pytest.mark.django_db
def test_the_hsds_export_validates_against_the_hsds_3_schemas(personas, login, directory):
    checks = validators()
    response = login(personas.caseworker_a).get(reverse("places:hsds"))
    assert response.status_code == 200
    document = response.json()
    plural = {
        "organization": "organizations",
        "service": "services",
        "location": "locations",
        "service_at_location": "service_at_locations",
        "schedule": "schedules",
    }
    for entity, key in plural.items():
        assert document[key], key
        for item in document[key]:
            errors = sorted(checks[entity].iter_errors(item), key=str)
            assert not errors, f"{entity}: {[e.message for e in errors]}"
    assert {s["byday"] for s in document["schedules"]} == {"2SA,4SA", "WE"}
    assert {s["freq"] for s in document["schedules"]} == {"MONTHLY", "WEEKLY"}


@pytest.mark.django_db
def test_the_hsds_export_holds_only_public_fields_of_active_places(personas, login, directory):
    text = login(personas.caseworker_a).get(reverse("places:hsds")).content.decode()
    assert "まちの縁側カフェ" in text
    assert "休止中の居場所" not in text
    assert "1,000円" not in text and "髙田" not in text and "accepts_referrals" not in text
    # The phone was marked public, the e-mail address was not.
    assert "0000-11-2222" in text and "cafe@example.jp" not in text


@pytest.mark.django_db
def test_hsds_ids_are_stable_between_exports(personas, login, directory):
    client = login(personas.caseworker_a)
    first, second = client.get(reverse("places:hsds")).json(), client.get(reverse("places:hsds")).json()
    assert first["services"][0]["id"] == second["services"][0]["id"]


@pytest.mark.django_db
def test_hsds_needs_a_directory_role(personas, login):
    assert login(personas.auditor).get(reverse("places:hsds")).status_code == 404
    assert login(None).get(reverse("places:hsds")).status_code == 302
