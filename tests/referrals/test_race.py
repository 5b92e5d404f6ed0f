"""Two people answering the same referral at once: exactly one wins, the other is told it changed."""

import threading

import pytest
from django.db import connection

from referrals import services
from referrals.models import Referral, ReferralState
from tests.factories import MembershipFactory, UserFactory, make_referral


@pytest.mark.django_db(transaction=True)
def test_concurrent_accept_and_reject_exactly_one_succeeds(personas, case_a):
    referral = make_referral(
        case=case_a, by=personas.caseworker_a, sender=personas.window_a, receiver=personas.window_b
    )
    second = MembershipFactory(user=UserFactory(username="cw_b2"), organization=personas.window_b).user
    version = referral.version
    barrier = threading.Barrier(2)
    results = {}

    def act(name, user, move):
        try:
            barrier.wait(timeout=10)
            services.referral_move(
                referral=Referral(pk=referral.pk), move=move, by=user, reason="対象外", expected_version=version
            )
            results[name] = "ok"
        except services.ReferralChanged:
            results[name] = "changed"
        except Exception as exc:  # noqa: BLE001 - any other error is the failure this test looks for
            results[name] = repr(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=act, args=("accept", personas.caseworker_b, "accept")),
        threading.Thread(target=act, args=("reject", second, "reject")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results.values()) == ["changed", "ok"], results
    referral.refresh_from_db()
    winner = next(name for name, result in results.items() if result == "ok")
    assert referral.state == (ReferralState.ACCEPTED if winner == "accept" else ReferralState.REJECTED)
    assert referral.version == version + 1
    assert referral.transitions.count() == 2
