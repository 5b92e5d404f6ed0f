"""Every URL against the policy table, for every subject: anonymous, each role on its own and on another
organization's records, place staff with an active and a closed referral, auditor, administrator,
deactivated and half-signed-in users. Refused POSTs change nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.security.policy import POLICY, SUBJECTS, Outcome
from tests.security.support import RowWatch, as_subject, fingerprint, fingerprint_tables, record_count, url_for
from tests.urlwalk import all_routes

pytestmark = pytest.mark.django_db


def mismatch(response, expected: Outcome) -> str | None:
    """Describe how the response differs from the expected outcome, or None when it matches."""
    location = response.get("Location", "")
    if response.status_code != expected.status:
        return f"got {response.status_code} {location}".strip()
    if expected.location and not location.startswith(reverse(expected.location)):
        return f"redirected to {location}"
    return None


def test_every_url_name_has_a_line_in_the_policy():
    names = {name for name, _route in all_routes()}
    missing = sorted(names - set(POLICY))
    assert not missing, f"URL names missing from tests/security/policy.py: {', '.join(missing)}"
    stale = sorted(set(POLICY) - names)
    assert not stale, f"policy lines for URL names that no longer exist: {', '.join(stale)}"


def test_every_url_answers_every_subject_as_the_policy_says(world, request):
    failures, checked = [], 0
    # Subjects that differ only by side send the same request to URLs without ids: ask once, check each line.
    answers = {}
    for name, _route in all_routes():
        rule = POLICY.get(name)
        if rule is None:
            continue  # reported by the test above
        for subject in SUBJECTS:
            expected = rule.get[subject]
            url = url_for(world, name, rule, subject.side)
            key = (subject.user, subject.second_factor, subject.second_factor_for_all, url)
            if key not in answers:
                with as_subject(subject):
                    answers[key] = world.clients[subject].get(url)
            checked += 1
            problem = mismatch(answers[key], expected)
            if problem:
                failures.append(f"{name} {url} as {subject}: expected {expected}, {problem}")
    record_count(request.config, "permission matrix (GET)", checked)
    assert not failures, f"{len(failures)} of {checked} answers differ from the policy:\n" + "\n".join(failures)


def test_a_refused_post_answers_the_refusal_and_changes_nothing(world, request):
    failures, checked = [], 0
    watch = RowWatch(fingerprint_tables())
    for name, _route in all_routes():
        rule = POLICY.get(name)
        if rule is None or rule.post is None:
            continue
        for subject, expected in rule.post.refusals().items():
            side = getattr(world, subject.side)
            url = url_for(world, name, rule, subject.side)
            with as_subject(subject):
                response = world.clients[subject].post(url, rule.post.data(side))
            checked += 1
            problem = mismatch(response, expected)
            if problem:
                failures.append(f"POST {name} {url} as {subject}: expected {expected}, {problem}")
            changed = watch.changed()
            if changed:
                failures.append(f"POST {name} {url} as {subject} changed stored rows in {', '.join(changed)}")
    record_count(request.config, "permission matrix (refused POST)", checked)
    assert checked > 50
    assert not failures, f"{len(failures)} of {checked} refused POSTs misbehaved:\n" + "\n".join(failures)


def test_the_fingerprint_notices_an_allowed_post(world):
    """The refused-POST check would see a change: the same kind of note, posted by the sender, is stored."""
    from tests.security.policy import CW_OWN

    before = fingerprint()
    watch = RowWatch(fingerprint_tables())
    url = reverse("referrals:note", kwargs={"pk": world.own.referral.pk})
    response = world.clients[CW_OWN].post(url, {"text": "許可された書き込み"})
    assert response.status_code == 302
    assert fingerprint() != before
    assert "referrals_referralnote" in watch.changed()
