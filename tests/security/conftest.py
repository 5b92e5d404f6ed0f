"""The security tests' world, built once per module, and the counts they print at the end of the run."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import override_settings

from tests.security.policy import SUBJECTS
from tests.security.support import client_for, print_counts
from tests.security.world import World, build_world


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    print_counts(terminalreporter, config)


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
            built.clients = {subject: client_for(built, subject) for subject in SUBJECTS}
            yield built
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
