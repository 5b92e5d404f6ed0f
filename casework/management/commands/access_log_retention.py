"""Report access-log rows older than the retention period; never deletes anything."""

from django.conf import settings
from django.core.management.base import BaseCommand

from casework.audit import rows_past_retention


class Command(BaseCommand):
    help = "保存期間（ACCESS_LOG_RETENTION_DAYS）を過ぎたアクセス記録の行数を日ごとに報告します。削除はしません。"

    def handle(self, *args, **options):
        retention = settings.ACCESS_LOG_RETENTION_DAYS
        cutoff, counts = rows_past_retention(retention)
        self.stdout.write(f"保存期間: {retention} 日（{cutoff.isoformat()} より前の行が対象）")
        for day, rows in counts:
            self.stdout.write(f"{day.isoformat()}: {rows} 行")
        total = sum(rows for _day, rows in counts)
        self.stdout.write(
            f"保存期間を過ぎた行: 合計 {total} 行（{len(counts)} 日分）。このコマンドは何も削除しません。"
        )
