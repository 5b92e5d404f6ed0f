"""Queue the day's scheduled jobs (idempotent: a second run on the same day queues nothing).

    manage.py run_scheduled              # today (Asia/Tokyo)
    manage.py run_scheduled --date 2026-12-03

Run it from a systemd timer or cron (deploy/jusou-scheduled.timer, deploy/crontab); the job workers
(`manage.py run_worker`) run what it queues.
"""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from casework.scheduling import DAILY_JOBS
from casework.tasks import enqueue_daily_jobs


class Command(BaseCommand):
    help = "その日の定期処理をジョブとして登録します（同じ日に2回実行しても増えません）"

    def add_arguments(self, parser):
        parser.add_argument("--date", dest="day", help="対象日（YYYY-MM-DD、既定: 今日）")

    def handle(self, *args, day=None, **options):
        try:
            target = date.fromisoformat(day) if day else timezone.localdate()
        except ValueError as error:
            raise CommandError("--date は YYYY-MM-DD で指定してください。") from error
        queued = enqueue_daily_jobs(target)
        for name in sorted(DAILY_JOBS):
            state = "登録しました" if name in queued else "登録済み（変更なし）"
            self.stdout.write(f"{target.isoformat()} {DAILY_JOBS[name].label}: {state}")
