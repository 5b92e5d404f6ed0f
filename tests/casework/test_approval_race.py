"""Two supervisors deciding the same 決裁 at once (PostgreSQL, real threads): exactly one decision."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from casework.choices import Role
from casework.models import ApprovalRequest, ApprovalState, Case, CaseState, CaseTransition
from casework.services.approvals import approval_decide, approval_request_closing
from casework.services.cases import case_transition
from tests.factories import MembershipFactory, UserFactory


@pytest.mark.django_db(transaction=True)
def test_two_supervisors_deciding_at_once_make_exactly_one_decision(personas, case_a):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    case = case_a
    for state in ("assessment", "planning", "in_support"):
        case = case_transition(case=case, to_state=state, by=personas.caseworker_a)
    approval = approval_request_closing(
        case=case, to_state="closed", by=personas.caseworker_a, reason="目標達成", choices={}
    )
    second = MembershipFactory(
        user=UserFactory(username="sv_a2", last_name="中川", first_name="四朗"),
        organization=personas.window_a,
        role=Role.SUPERVISOR,
    ).user
    barrier = threading.Barrier(2)
    results = {}

    def decide(name, user, approve):
        try:
            barrier.wait(timeout=10)
            approval_decide(approval=ApprovalRequest(pk=approval.pk), by=user, approve=approve, comment="同時に決裁")
            results[name] = "ok"
        except ValidationError as exc:
            results[name] = "already" if "すでに決裁" in " ".join(exc.messages) else repr(exc)
        except Exception as exc:  # noqa: BLE001 - any other error is the failure this test looks for
            results[name] = repr(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=decide, args=("approve", personas.supervisor_a, True)),
        threading.Thread(target=decide, args=("return", second, False)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results.values()) == ["already", "ok"], results
    approval.refresh_from_db()
    case = Case.objects.get(pk=case.pk)
    closings = CaseTransition.objects.filter(case=case, to_state=CaseState.CLOSED).count()
    if results["approve"] == "ok":
        assert approval.state == ApprovalState.APPROVED and approval.decided_by == personas.supervisor_a
        assert case.state == CaseState.CLOSED and closings == 1
    else:
        assert approval.state == ApprovalState.RETURNED and approval.decided_by == second
        assert case.state == CaseState.IN_SUPPORT and closings == 0
