"""Create (or bring up to date) the demo municipality and print its logins."""

import importlib

from django.core.management.base import BaseCommand

from casework import demo
from casework.accounts.second_factor import second_factor_required
from casework.demo import demo_second_factor

# Apps seed in dependency order; each may provide `<app>.demo.seed(stdout, base)`.
LATER_APPS = ["places", "referrals", "meetings"]


class Command(BaseCommand):
    help = "デモ用の自治体データ（機関・利用者・ケースなど）を作成します。何度実行しても重複しません。"

    def handle(self, *args, **options):
        base = demo.seed(self.stdout)
        for app in LATER_APPS:
            try:
                module = importlib.import_module(f"{app}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{app}.demo":
                    raise
                continue
            module.seed(self.stdout, base)
        demo_users = [u for u in base["users"].values() if second_factor_required(u)]
        for user in demo_users:
            demo_second_factor(user)
        self.stdout.write(self.style.SUCCESS("デモデータを用意しました。ログイン情報（パスワードはすべて共通）:"))
        self.stdout.write(f"  パスワード: {demo.DEMO_PASSWORD}")
        for username, organization, role in demo.describe_logins():
            self.stdout.write(f"  {username:<18} {role:<14} {organization}")
        if demo_users:
            self.stdout.write(
                "二要素認証が必要な利用者（監査担当・システム管理者・組織管理者）の確認コードは次で表示できます:"
            )
            for user in demo_users:
                self.stdout.write(f"  .venv/bin/python manage.py demo_otp_code {user.username}")
