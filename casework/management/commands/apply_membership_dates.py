"""Finish what the calendar decided for memberships: end those whose end date has come (closing sessions)."""

from django.core.management.base import BaseCommand

from casework.services.memberships import memberships_apply_dates


class Command(BaseCommand):
    help = (
        "終了日を迎えた所属を終了し（セッションと接続も終了）、開始日を迎えた所属のグループを整えます。"
        "画面の権限は終了日・開始日を毎回確かめるため、これを実行しなくてもその日から効きます。何度実行しても同じ結果です。"
    )

    def handle(self, *args, **options):
        ended, checked = memberships_apply_dates()
        self.stdout.write(f"終了した所属: {ended} 件、開始日を確認した利用者: {checked} 人")
