"""The case state machine: every move, reasons, an invalid move, stale forms and a real race."""

import threading
from datetime import date

import pytest
from django.db import connection
from django.urls import reverse

from casework.models import AccessLog, Case, CaseState, CaseTransition
from casework.services.cases import case_transition
from casework.services.common import CaseChanged, InvalidTransition
from tests.factories import make_case

S = CaseState


def _move(case, to, by, reason=""):
    return case_transition(case=case, to_state=to, by=by, reason=reason)


@pytest.mark.django_db
def test_the_full_flow_and_every_move_leaves_a_history_row(personas, case_a):
    by = personas.caseworker_a
    case = case_a
    path = [
        (S.ASSESSMENT, ""),
        (S.PLANNING, ""),
        (S.IN_SUPPORT, ""),
        (S.PLANNING, "プランの見直し"),
        (S.IN_SUPPORT, ""),
        (S.CLOSED, "目標を達成したため"),
        (S.ASSESSMENT, "再相談"),
        (S.SUSPENDED, "転居のため中断"),
        (S.ASSESSMENT, "再開"),
    ]
    for to, reason in path:
        before = case.state
        case = _move(case, to, by, reason)
        assert case.state == to
        last = CaseTransition.objects.filter(case=case).latest("id")
        assert (last.from_state, last.to_state, last.by, last.reason) == (before, to, by, reason)
    assert CaseTransition.objects.filter(case=case).count() == len(path)
    assert case.version == 1 + len(path)
    rows = AccessLog.objects.filter(action=AccessLog.Action.TRANSITION, object_id=str(case.pk))
    assert rows.count() == len(path)


@pytest.mark.django_db
def test_closing_sets_the_closed_date_and_reopening_clears_it(personas, case_a):
    by = personas.caseworker_a
    case = _move(_move(_move(case_a, S.ASSESSMENT, by), S.PLANNING, by), S.IN_SUPPORT, by)
    case = _move(case, S.CLOSED, by, "終結の理由")
    assert case.closed_on is not None
    case = _move(case, S.ASSESSMENT, by, "再開")
    assert case.closed_on is None


@pytest.mark.django_db
@pytest.mark.parametrize("to", [S.CLOSED, S.SUSPENDED])
def test_closing_and_suspending_need_a_reason(personas, case_a, to):
    by = personas.caseworker_a
    case = _move(_move(_move(case_a, S.ASSESSMENT, by), S.PLANNING, by), S.IN_SUPPORT, by)
    with pytest.raises(InvalidTransition, match="理由"):
        _move(case, to, by, "  ")
    assert Case.objects.get(pk=case.pk).state == S.IN_SUPPORT


@pytest.mark.django_db
def test_an_invalid_move_is_refused_with_a_japanese_message(personas, case_a):
    with pytest.raises(InvalidTransition, match="「受付」から「終結」へは変更できません"):
        _move(case_a, S.CLOSED, personas.caseworker_a, "理由")
    assert Case.objects.get(pk=case_a.pk).state == S.INTAKE


@pytest.mark.django_db
def test_the_screen_shows_the_invalid_move_as_a_message(personas, login, case_a):
    url = reverse("casework:transition", args=[case_a.pk])
    response = login(personas.caseworker_a).post(url, {"to_state": "closed", "reason": "理由", "expected_version": 1})
    assert response.status_code == 200
    assert "「受付」から「終結」へは変更できません" in response.content.decode()


@pytest.mark.django_db
def test_a_stale_form_gets_a_message_in_html_and_409_otherwise(personas, login, case_a):
    client = login(personas.caseworker_a)
    url = reverse("casework:transition", args=[case_a.pk])
    assert client.post(url, {"to_state": "assessment", "expected_version": 1}).status_code == 302
    stale = {"to_state": "suspended", "reason": "中断の理由", "expected_version": 1}
    response = client.post(url, stale, follow=True)
    assert "このケースは他の職員により更新されました。最新の状態を確認してください。" in response.content.decode()
    assert client.post(url, stale, HTTP_ACCEPT="application/json").status_code == 409
    assert client.post(url, stale, HTTP_HX_REQUEST="true").status_code == 409
    assert Case.objects.get(pk=case_a.pk).state == S.ASSESSMENT


@pytest.mark.django_db
def test_case_numbers_follow_the_fiscal_year(personas):
    by = personas.caseworker_a
    march = make_case(lead_organization=personas.window_a, by=by, opened_on=date(2025, 3, 31))
    april = make_case(lead_organization=personas.window_a, by=by, opened_on=date(2025, 4, 1))
    april2 = make_case(lead_organization=personas.window_a, by=by, opened_on=date(2025, 5, 1))
    assert march.number == "R6-000001"
    assert (april.number, april2.number) == ("R7-000001", "R7-000002")
    fy2019 = make_case(lead_organization=personas.window_a, by=by, opened_on=date(2019, 4, 10))
    assert fy2019.number == "R1-000001"


@pytest.mark.django_db(transaction=True)
def test_two_people_moving_the_same_case_at_once_exactly_one_wins(personas):
    case = make_case(lead_organization=personas.window_a, by=personas.caseworker_a)
    barrier = threading.Barrier(2)
    results = []

    def worker(user, to, reason):
        try:
            barrier.wait(timeout=10)
            case_transition(case=case, to_state=to, by=user, reason=reason, expected_version=case.version)
            results.append("ok")
        except CaseChanged:
            results.append("changed")
        except Exception as exc:  # pragma: no cover - reported below
            results.append(repr(exc))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=worker, args=(personas.caseworker_a, S.ASSESSMENT, "")),
        threading.Thread(target=worker, args=(personas.supervisor_a, S.SUSPENDED, "連絡がとれないため")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results) == ["changed", "ok"]
    assert CaseTransition.objects.filter(case=case).count() == 1
    assert Case.objects.get(pk=case.pk).version == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_intakes_get_distinct_case_numbers(personas):
    by = personas.caseworker_a
    barrier = threading.Barrier(2)
    numbers, errors = [], []

    def worker():
        try:
            barrier.wait(timeout=10)
            numbers.append(make_case(lead_organization=personas.window_a, by=by, opened_on=date(2025, 6, 1)).number)
        except Exception as exc:  # pragma: no cover
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert sorted(numbers) == ["R7-000001", "R7-000002"]
