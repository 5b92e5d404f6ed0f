"""The daily digest mail: opt-in, counts and links only, queued once a day, a failed send retried by the queue."""

from __future__ import annotations

import io
from datetime import timedelta
from smtplib import SMTPException

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from casework import tasks
from casework.models import DigestDelivery, DigestSubscription, NotificationKind, Person, SupportPlan
from casework.notifications import digest
from casework.notifications.services import notify
from casework.services.personal import digest_subscription_set

pytestmark = pytest.mark.django_db


def _run_worker():
    call_command("run_worker", "--batch", "--no-reload", "--no-startup-delay", verbosity=0)


@pytest.fixture
def subscribed(personas, case_a):
    user = personas.caseworker_a
    user.email = "sato@example.jp"
    user.save(update_fields=["email"])
    digest_subscription_set(by=user, daily=True)
    SupportPlan.objects.create(
        case=case_a,
        version=1,
        goals="x",
        created_by=user,
        status=SupportPlan.Status.APPROVED,
        next_review_on=timezone.localdate() + timedelta(days=3),
    )
    notify(kind=NotificationKind.REVIEW_DUE, summary="見直し", users=[user], case=case_a)
    return user


def test_the_digest_is_off_until_the_user_opts_in(personas, login):
    client = login(personas.caseworker_a)
    page = client.get(reverse("casework:personal_settings")).content.decode()
    assert 'id="digest-daily"' in page and "checked" not in page.split('id="digest-daily"', 1)[1].split(">", 1)[0]
    assert tasks.queue_digests(timezone.localdate()).startswith("まとめメール 0 件")


def test_opting_in_on_the_settings_screen_and_out_again(personas, login):
    user = personas.caseworker_a
    user.email = "sato@example.jp"
    user.save(update_fields=["email"])
    client = login(user)
    assert client.post(reverse("casework:digest_settings"), {"daily": "on"}).status_code == 302
    assert DigestSubscription.objects.get(user=user).daily
    client.post(reverse("casework:digest_settings"), {})
    assert not DigestSubscription.objects.get(user=user).daily


def test_opting_in_without_an_address_is_refused_with_a_japanese_message(personas, login):
    user = personas.caseworker_a
    user.email = ""
    user.save(update_fields=["email"])
    response = login(user).post(reverse("casework:digest_settings"), {"daily": "on"}, follow=True)
    assert "メールアドレスが登録されていない" in response.content.decode()
    assert not DigestSubscription.objects.filter(user=user, daily=True).exists()


def test_the_days_job_queues_one_digest_per_user_and_a_second_run_adds_nothing(subscribed):
    day = timezone.localdate()
    assert tasks.queue_digests(day).startswith("まとめメール 1 件")
    assert tasks.queue_digests(day).startswith("まとめメール 0 件")
    assert DigestDelivery.objects.filter(user=subscribed, day=day).count() == 1
    assert DBTaskResult.objects.filter(task_path="casework.tasks.send_digest").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_worker_sends_counts_and_links_only(personas, case_a):
    user = personas.caseworker_a
    user.email = "sato@example.jp"
    user.save(update_fields=["email"])
    digest_subscription_set(by=user, daily=True)
    SupportPlan.objects.create(
        case=case_a,
        version=1,
        goals="x",
        created_by=user,
        status=SupportPlan.Status.APPROVED,
        next_review_on=timezone.localdate() - timedelta(days=1),
    )
    # The day's reviews_due job writes the one notification (it runs before the digest is sent).
    call_command("run_scheduled", stdout=io.StringIO())
    _run_worker()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["sato@example.jp"]
    assert "お知らせ 1件" in message.subject and "やること 1件" in message.subject
    assert "未読のお知らせ: 1件" in message.body
    assert "期限超過 1件" in message.body
    assert "http://127.0.0.1:8000/notifications/" in message.body and "/todo/" in message.body
    assert case_a.number not in message.body, "counts only: not even the case number"
    for person in Person.objects.all():
        assert person.family_name not in message.body + message.subject
    assert user.last_name not in message.body
    assert DigestDelivery.objects.get(user=user).status == DigestDelivery.Status.SENT


def test_a_failed_send_is_queued_again_and_given_up_after_the_last_attempt(subscribed, settings, monkeypatch):
    settings.DIGEST_MAX_ATTEMPTS = 2

    def refuse(self, *args, **kwargs):
        raise SMTPException("relay down")

    monkeypatch.setattr("django.core.mail.message.EmailMessage.send", refuse)
    tasks.queue_digests(timezone.localdate())
    delivery = DigestDelivery.objects.get(user=subscribed)
    with pytest.raises(SMTPException):
        digest.digest_send(delivery.pk, resend=tasks.send_digest)
    delivery.refresh_from_db()
    assert delivery.status == DigestDelivery.Status.RETRYING and delivery.attempts == 1
    retry = DBTaskResult.objects.filter(task_path="casework.tasks.send_digest").order_by("-enqueued_at").first()
    assert retry.run_after > timezone.now() + timedelta(minutes=4), "queued again with a delay"
    with pytest.raises(SMTPException):
        digest.digest_send(delivery.pk, resend=tasks.send_digest)
    delivery.refresh_from_db()
    assert delivery.status == DigestDelivery.Status.FAILED and delivery.outcome == "送信エラー: SMTPException"
    assert DBTaskResult.objects.filter(task_path="casework.tasks.send_digest").count() == 2
    assert digest.digest_send(delivery.pk, resend=tasks.send_digest) == "送信済みまたは対象外"


def test_a_user_who_opted_out_before_sending_gets_nothing(subscribed):
    tasks.queue_digests(timezone.localdate())
    digest_subscription_set(by=subscribed, daily=False)
    digest.digest_send(DigestDelivery.objects.get(user=subscribed).pk, resend=tasks.send_digest)
    assert mail.outbox == []
    assert DigestDelivery.objects.get(user=subscribed).status == DigestDelivery.Status.SKIPPED


def test_no_demo_name_appears_in_any_demo_users_digest():
    call_command("seed_demo", stdout=io.StringIO())
    names = set()
    for person in Person.objects.all():
        names |= {person.family_name, person.given_name, person.family_name_kana, person.given_name_kana}
    for user in get_user_model().objects.all():
        names |= {user.last_name, user.first_name}
    names.discard("")
    day = timezone.localdate()
    sent = 0
    for user in get_user_model().objects.filter(is_active=True, memberships__isnull=False).distinct():
        counts = digest.digest_counts(user, day)
        message = digest.digest_message(user, counts, day)
        text = message.subject + message.body
        assert not [name for name in names if name in text], user.username
        sent += 1
    assert sent >= 5


def test_the_demo_writes_mail_to_files_under_var_mail():
    from django.conf import settings as django_settings

    # The test run swaps in the locmem backend; the configured one (no EMAIL_URL) is the file backend.
    from config.env import email_from_env

    config = email_from_env("NO_SUCH_EMAIL_URL_VARIABLE", file_path=str(django_settings.DATA_DIR / "mail"))
    assert config["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend"
    assert config["EMAIL_FILE_PATH"].endswith("var/mail") or "mail" in config["EMAIL_FILE_PATH"]
