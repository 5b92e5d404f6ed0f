"""The operator's screen of scheduled jobs: administrators only; last run and result per job; queue counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from casework.models import ScheduledRun, WorkerHeartbeat
from casework.scheduling import DAILY_JOBS
from tests.jobs.probes import record_run

pytestmark = pytest.mark.django_db
URL = "/operations/jobs/"


def test_the_url_is_the_named_one():
    assert reverse("casework:scheduled_jobs") == URL


def test_anonymous_visitors_go_to_the_login_page():
    response = Client().get(URL)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("persona", ["caseworker_a", "supervisor_a", "coordinator", "chair", "place_staff", "auditor"])
def test_everyone_but_administrators_gets_404(personas, login, persona):
    assert login(getattr(personas, persona)).get(URL).status_code == 404


def test_a_deactivated_user_goes_to_the_login_page(personas, login):
    response = login(personas.deactivated).get(URL)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_administrator_sees_each_jobs_last_run_result_and_the_queue(personas, login):
    today = timezone.localdate()
    ScheduledRun.objects.create(
        name="reviews_due", day=today, finished_at=timezone.now(), ok=True, outcome="見直し 3 件、お知らせ 2 件"
    )
    ScheduledRun.objects.create(name="reviews_due", day=today - timedelta(days=1), finished_at=timezone.now(), ok=True)
    ScheduledRun.objects.create(
        name="access_log_verify", day=today, finished_at=timezone.now(), ok=False, outcome="失敗: ValueError"
    )
    ScheduledRun.objects.create(name="consents_expiring", day=today)
    record_run.enqueue(1)
    record_run.enqueue(2)
    failed = record_run.enqueue(3)
    DBTaskResult.objects.filter(pk=failed.id).update(
        status="FAILED", finished_at=timezone.now(), exception_class_path="smtplib.SMTPException"
    )
    WorkerHeartbeat.objects.create(
        worker_id="w", hostname="h", pid=1, started_at=timezone.now(), beat_at=timezone.now()
    )
    response = login(personas.administrator).get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    for job in DAILY_JOBS.values():
        assert job.label in page
    assert "見直し 3 件、お知らせ 2 件" in page and "成功" in page
    assert "失敗: ValueError" in page
    assert "実行待ち" in page  # consents_expiring queued, not finished
    assert "まだ一度も登録されていません" in page  # e.g. the mail digest
    assert '<dd data-count="ready">2件</dd>' in page
    assert "smtplib.SMTPException" in page
    assert "最終応答" in page


def test_with_no_worker_the_screen_says_so(personas, login):
    page = login(personas.administrator).get(URL).content.decode()
    assert "動いているワーカーがありません" in page


def test_the_page_is_constant_in_queries_as_the_history_grows(personas, login, django_assert_max_num_queries):
    today = timezone.localdate()
    for n in range(60):
        for name in DAILY_JOBS:
            ScheduledRun.objects.create(name=name, day=today - timedelta(days=n), finished_at=timezone.now(), ok=True)
    client = login(personas.administrator)
    with django_assert_max_num_queries(len(DAILY_JOBS) + 25):
        assert client.get(URL).status_code == 200
