"""Scheduled work: run_scheduled queues each daily job once per day; the jobs notify once per due thing."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from casework.models import Notification, NotificationKind, ScheduledRun, SupportPlan
from casework.scheduling import DAILY_JOBS, run_daily_job_now
from referrals.models import Referral
from tests.factories import make_referral

pytestmark = pytest.mark.django_db


def _received(kind) -> Counter:
    return Counter(Notification.objects.filter(kind=kind).values_list("user__username", flat=True))


def test_running_it_twice_in_a_day_queues_nothing_new():
    assert {"reviews_due", "consents_expiring", "access_log_verify", "referral_responses_overdue", "retention"} <= set(
        DAILY_JOBS
    )
    call_command("run_scheduled", verbosity=0)
    first = (ScheduledRun.objects.count(), DBTaskResult.objects.count())
    call_command("run_scheduled", verbosity=0)
    assert (ScheduledRun.objects.count(), DBTaskResult.objects.count()) == first == (len(DAILY_JOBS),) * 2
    assert set(DBTaskResult.objects.values_list("task_path", flat=True)) == {"casework.tasks.run_daily_job"}


@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_the_days_jobs_and_records_their_outcome(personas):
    call_command("run_scheduled", verbosity=0)
    call_command("run_worker", "--batch", "--no-reload", "--no-startup-delay", verbosity=0)
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}
    runs = ScheduledRun.objects.all()
    assert all(run.ok and run.finished_at and run.outcome for run in runs)
    assert runs.get(name="access_log_verify").outcome == "アクセス記録の連鎖: 正常"


def test_a_review_due_next_week_is_told_to_the_lead_once(personas, case_a):
    today = timezone.localdate()
    SupportPlan.objects.create(
        case=case_a,
        version=1,
        goals="x",
        created_by=personas.caseworker_a,
        status=SupportPlan.Status.APPROVED,
        next_review_on=today + timedelta(days=5),
    )
    run_daily_job_now("reviews_due", today)
    run_daily_job_now("reviews_due", today)  # the same day again: nothing new
    assert _received(NotificationKind.REVIEW_DUE) == Counter({"cw_a": 1, "sv_a": 1})
    # Once it has passed: one more notice (overdue), still once.
    later = today + timedelta(days=6)
    run_daily_job_now("reviews_due", later)
    run_daily_job_now("reviews_due", later + timedelta(days=1))
    assert _received(NotificationKind.REVIEW_DUE) == Counter({"cw_a": 2, "sv_a": 2})


def test_an_overdue_referral_is_told_to_the_receiver_and_the_sending_worker(personas, case_a):
    referral = make_referral(
        case=case_a,
        by=personas.caseworker_a,
        sender=personas.window_a,
        receiver=personas.window_b,
        due_on=timezone.localdate() + timedelta(days=1),
    )
    Referral.objects.filter(pk=referral.pk).update(due_on=timezone.localdate() - timedelta(days=1))
    run_daily_job_now("referral_responses_overdue", timezone.localdate())
    run_daily_job_now("referral_responses_overdue", timezone.localdate())
    assert _received(NotificationKind.REFERRAL_OVERDUE) == Counter({"cw_b": 1, "cw_a": 1})


def test_a_broken_chain_alerts_the_auditors(personas, monkeypatch):
    from casework import audit

    problem = audit.ChainProblem(day=timezone.localdate(), seq=3, row_id=9, message="ハッシュ不一致")
    monkeypatch.setattr(audit, "verify_day", lambda day: (2, problem))
    outcome = run_daily_job_now("access_log_verify", timezone.localdate())
    assert "異常" in outcome
    assert _received(NotificationKind.ACCESS_LOG_ALERT) == Counter({"auditor": 1})
