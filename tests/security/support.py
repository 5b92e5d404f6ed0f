"""Helpers of the security tests: signed-in clients per subject, the row fingerprint, the printed counts.

Kept out of conftest.py so the tests and the conftest plugin share one module (and one stash key).
"""

from __future__ import annotations

import hashlib
from operator import attrgetter

import pytest
from django.apps import apps
from django.db import connection
from django.test import override_settings
from django.urls import reverse

from casework.models import AccessLog
from tests.conftest import sign_in
from tests.security.policy import DEFAULT_ARGS, Rule, Subject
from tests.security.world import World
from tests.urlwalk import all_routes

COUNTS = pytest.StashKey[dict]()
ROUTES = dict(all_routes())
# Tables whose rows a refused request must leave untouched (the access log only grows, by design).
FINGERPRINT_APPS = ("auth", "casework", "places", "referrals", "meetings")


def record_count(config, label: str, number: int) -> None:
    """Add to the figure printed under the label in the terminal summary."""
    counts = config.stash.setdefault(COUNTS, {})
    counts[label] = counts.get(label, 0) + number


def print_counts(terminalreporter, config) -> None:
    """Write each recorded figure as one line of the terminal summary."""
    for label, number in config.stash.get(COUNTS, {}).items():
        terminalreporter.write_line(f"{label}: {number} combinations checked")


def user_of(world: World, subject: Subject):
    """Return the subject's user in this world (None for anonymous)."""
    return attrgetter(subject.user)(world) if subject.user else None


def client_for(world: World, subject: Subject):
    """Sign the subject in once, the way the policy line describes."""
    with override_settings(SECOND_FACTOR_FOR_ALL=subject.second_factor_for_all):
        return sign_in(user_of(world, subject), second_factor=subject.second_factor)


def as_subject(subject: Subject):
    """The settings a subject's requests run under (SECOND_FACTOR_FOR_ALL for the half-signed-in caseworker)."""
    return override_settings(SECOND_FACTOR_FOR_ALL=subject.second_factor_for_all)


def fingerprint() -> str:
    """Hash every row of the application's tables except the access log (which records refusals), in one query."""
    tables = sorted(
        {
            model._meta.db_table
            for label in FINGERPRINT_APPS
            for model in apps.get_app_config(label).get_models(include_auto_created=True)
            if model is not AccessLog and not model._meta.proxy and model._meta.managed
        }
    )
    sql = " UNION ALL ".join(
        f"SELECT '{table}', md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table} t"
        for table in tables
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return hashlib.sha256(repr(sorted(cursor.fetchall())).encode()).hexdigest()


def url_for(world, name: str, rule: Rule, side_name: str) -> str:
    """Reverse the URL with arguments pointing at real rows of the subject's side."""
    side = getattr(world, side_name)
    route_has_args = "<" in ROUTES[name]
    kwargs = {}
    if rule.args is not None:
        kwargs = rule.args(side)
    elif route_has_args:
        kwargs = DEFAULT_ARGS[name.split(":")[0]](side)
    url = reverse(name, kwargs=kwargs)
    if rule.query is not None:
        url += "?" + "&".join(f"{k}={v}" for k, v in rule.query(side).items())
    return url
