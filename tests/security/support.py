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


def fingerprint_tables() -> list[str]:
    """The application's tables except the access log (which records refusals)."""
    return sorted(
        {
            model._meta.db_table
            for label in FINGERPRINT_APPS
            for model in apps.get_app_config(label).get_models(include_auto_created=True)
            if model is not AccessLog and not model._meta.proxy and model._meta.managed
        }
    )


def table_digests(tables) -> dict[str, str]:
    """An md5 of every row of each table, in one query."""
    if not tables:
        return {}
    sql = " UNION ALL ".join(
        f"SELECT '{table}', md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \"{table}\" t"
        for table in tables
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return dict(cursor.fetchall())


def fingerprint() -> str:
    """Hash every row of the application's tables except the access log (which records refusals), in one query."""
    return hashlib.sha256(repr(sorted(table_digests(fingerprint_tables()).items())).encode()).hexdigest()


class RowWatch:
    """Whether any row of the watched tables differs from the last look, without hashing every table each time.

    Hashing every row of every table after each request was most of the security suite's time. A table whose
    content changed had a row inserted, updated or deleted by this connection, which PostgreSQL counts per
    table for the open transaction (pg_stat_xact_user_tables, rolled-back savepoints included). So only the
    tables with new writes since the last look are hashed again and compared with their stored digests: the
    answer is the one a full re-hash would give (a write that put back the same content is no change).
    Outside a transaction the counters do not span requests, so every table is hashed again.
    """

    def __init__(self, tables):
        self.tables = list(tables)
        self.digests = table_digests(self.tables)
        self.writes = self._writes()

    def _writes(self) -> dict[str, int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables"
                " WHERE schemaname = current_schema() AND relname = ANY(%s)",
                [self.tables],
            )
            return dict(cursor.fetchall())

    def mark(self) -> None:
        """Forget the writes so far (a rolled-back savepoint put the rows back as they were)."""
        self.writes = self._writes()

    def changed(self, *, rebase: bool = True) -> list[str]:
        """The watched tables whose rows differ from the last look (rebase: take the new rows as the last look)."""
        writes = self._writes()
        if connection.in_atomic_block:
            touched = [t for t in self.tables if writes.get(t, 0) != self.writes.get(t, 0)]
        else:
            touched = self.tables
        now = table_digests(touched)
        differ = [t for t in touched if now[t] != self.digests[t]]
        if rebase:
            self.digests.update(now)
            self.writes = writes
        return differ


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
