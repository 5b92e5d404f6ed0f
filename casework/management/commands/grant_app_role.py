"""Grant the application's database role what it needs, and only SELECT/INSERT on the access log."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from casework.audit.roles import apply_grants, valid_role_name


class Command(BaseCommand):
    help = (
        "アプリケーション用のデータベースロールに権限を付与します（所有者ロールで実行）。"
        "アクセス記録には SELECT と INSERT だけを許可します。"
    )

    def add_arguments(self, parser):
        parser.add_argument("role", nargs="?", help="アプリケーション用ロール（既定: DATABASE_APP_ROLE）")

    def handle(self, *args, role=None, **options):
        role = role or settings.DATABASE_APP_ROLE
        if not role:
            raise CommandError("ロール名を指定するか DATABASE_APP_ROLE を設定してください。")
        if not valid_role_name(role):
            raise CommandError(f"ロール名が正しくありません: {role!r}")
        if connections[DEFAULT_DB_ALIAS].vendor != "postgresql":
            raise CommandError("PostgreSQL でのみ使えます。")
        apply_grants(role)
        self.stdout.write(f"ロール {role} に権限を付与しました（アクセス記録は SELECT と INSERT のみ）。")
