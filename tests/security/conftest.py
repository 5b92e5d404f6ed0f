"""The security tests' world, built once per module, and the counts they print at the end of the run."""

from __future__ import annotations

import hashlib
from operator import attrgetter

import pytest
from django.apps import apps
from django.db import transaction
from django.test import override_settings

from casework.models import AccessLog
from tests.conftest import sign_in
from tests.security.policy import SUBJECTS, Subject
from tests.security.world import World, build_world

COUNTS = pytest.StashKey[dict]()
# Tables whose rows a refused request must leave untouched (the access log only grows, by design).
FINGERPRINT_APPS = ("auth", "casework", "places", "referrals", "meetings")


def record_count(config, label: str, number: int) -> None:
    """Add to the figure printed under the label in the terminal summary."""
    counts = config.stash.setdefault(COUNTS, {})
    counts[label] = counts.get(label, 0) + number


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    for label, number in config.stash.get(COUNTS, {}).items():
        terminalreporter.write_line(f"{label}: {number} combinations checked")


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory) -> World:
    """Build the world once for the module inside a transaction that is rolled back afterwards."""
    media = tmp_path_factory.mktemp("media")
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with override_settings(MEDIA_ROOT=media, PASSWORD_HASHERS=fast), django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            built = build_world()
            built.clients = {subject: _client(built, subject) for subject in SUBJECTS}
            yield built
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def user_of(world: World, subject: Subject):
    return attrgetter(subject.user)(world) if subject.user else None


def _client(world: World, subject: Subject):
    with override_settings(SECOND_FACTOR_FOR_ALL=subject.second_factor_for_all):
        return sign_in(user_of(world, subject), second_factor=subject.second_factor)


def as_subject(subject: Subject):
    """The settings a subject's requests run under (SECOND_FACTOR_FOR_ALL for the half-signed-in caseworker)."""
    return override_settings(SECOND_FACTOR_FOR_ALL=subject.second_factor_for_all)


def fingerprint() -> str:
    """Hash every row of the application's tables except the access log (which records refusals)."""
    digest = hashlib.sha256()
    for label in FINGERPRINT_APPS:
        for model in apps.get_app_config(label).get_models():
            if model is AccessLog or model._meta.proxy:
                continue
            rows = model.objects.order_by("pk").values_list()
            digest.update(f"{model._meta.label}:{list(rows)!r}".encode())
    return digest.hexdigest()
