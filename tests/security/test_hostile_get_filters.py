"""Corpus values in the search and filter parameters of every GET screen: never a 500, never unescaped markup."""

import os

import pytest
from django.urls import reverse

from tests.security.corpus import CORPUS, MARKUP_NEEDLES, TALLY, urlencoded

pytestmark = pytest.mark.django_db


def _values(i: int):
    """Every value with HOSTILE_FULL=1; else the must-refuse and markup values plus a rotating share."""
    if os.environ.get("HOSTILE_FULL") == "1":
        return list(CORPUS)
    fixed = [h for h in CORPUS if h.must_refuse or h.markup]
    rest = [h for h in CORPUS if h not in fixed]
    return fixed + [rest[(i * 4 + k) % len(rest)] for k in range(4)]


# (URL name, args, persona, parameters a person or a link can set)
FILTERS = [
    ("casework:case_list", [], "caseworker_a", ["q", "domain", "state", "tag", "lead_organization", "page"]),
    ("places:list", [], "caseworker_a", ["q", "area", "kind", "weekday", "target", "accommodation"]),
    ("places:match", [], "caseworker_a", ["interests", "area", "weekdays", "time_from", "time_to", "age"]),
    ("places:export", [], "place_staff", ["file_format", "encoding"]),
    ("audit:log", [], "auditor", ["actor", "person", "object_type", "object_id", "date_from", "date_to", "after"]),
    ("audit:export", [], "auditor", ["actor", "object_type", "format", "date_from"]),
    ("audit:person_history", [], "auditor", ["person", "date_from", "date_to"]),
    ("audit:report", ["break-glass"], "auditor", ["date_from", "date_to"]),
    ("indicators:dashboard", [], "caseworker_a", ["fy", "org", "suppress"]),
    ("referrals:inbox", [], "place_staff", ["state", "overdue"]),
]


@pytest.mark.parametrize(("name", "args", "who", "params"), FILTERS, ids=[f[0] for f in FILTERS])
def test_corpus_values_in_filters_get_a_page_or_a_message_never_a_500(personas, login, name, args, who, params):
    client = login(getattr(personas, who))
    url = reverse(name, args=args)
    for i, param in enumerate(params):
        for hostile in _values(i):
            response = client.get(f"{url}?{urlencoded({param: hostile.value}).decode()}")
            TALLY["hostile filter requests"] += 1
            where = f"{name} {param}={hostile.label}"
            assert response.status_code in {200, 400, 404}, (where, response.status_code)
            if response.get("Content-Type", "").startswith("text/html"):
                body = response.content.decode()
                assert not any(needle in body for needle in MARKUP_NEEDLES), where
