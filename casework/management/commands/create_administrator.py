"""Create a system administrator: an administrator-role membership of an organization, never a superuser."""

import getpass
import os

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from casework.choices import Role
from casework.models import Membership, Organization
from casework.services.memberships import membership_add


class Command(BaseCommand):
    help = (
        "最初のシステム管理者（スーパーユーザーではなく、機関の「システム管理者」役割）を作成します。"
        "役割の付与には別の管理者の承認が必要なため、運用開始時に2人作成してください。"
    )

    def add_arguments(self, parser):
        parser.add_argument("username", help="ログインID")
        parser.add_argument(
            "--organization", required=True, help="所属する機関・団体の名称（なければ自治体として作成）"
        )
        parser.add_argument("--last-name", default="", help="姓")
        parser.add_argument("--first-name", default="", help="名")
        parser.add_argument("--email", default="", help="メールアドレス")
        parser.add_argument(
            "--password-env",
            metavar="NAME",
            help="パスワードを読む環境変数の名前（指定しなければ対話的に入力）",
        )

    def handle(self, *args, username, organization, last_name, first_name, email, password_env, **options):
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            raise CommandError(f"ログインID「{username}」はすでに使われています。別のIDを指定してください。")
        password = self._password(password_env)
        user = User(username=username, last_name=last_name, first_name=first_name, email=email)
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise CommandError("パスワードが条件を満たしていません: " + " ".join(error.messages)) from None
        with transaction.atomic():
            org = Organization.objects.filter(name=organization).first()
            if org is None:
                org = Organization.objects.create(name=organization, kind=Organization.Kind.MUNICIPAL)
                self.stdout.write(f"機関「{org.name}」を自治体として作成しました。")
            elif not org.is_active:
                raise CommandError(f"機関「{org.name}」は無効です。有効な機関を指定してください。")
            user.set_password(password)
            user.save()
            membership_add(user=user, organization=org, role=Role.ADMINISTRATOR, title="システム管理者")
        self.stdout.write(
            self.style.SUCCESS(
                f"システム管理者「{username}」を作成しました（{org.name}）。スーパーユーザーではありません。"
            )
        )
        self.stdout.write("最初のログインで二要素認証（認証アプリ）の登録を求められます。")
        administrators = Membership.objects.active().filter(role=Role.ADMINISTRATOR, user__is_active=True).count()
        if administrators < 2:
            self.stdout.write(
                self.style.WARNING(
                    "役割の付与は別のシステム管理者の承認が必要です。このコマンドでもう1人の管理者を作成してください。"
                )
            )

    def _password(self, password_env: str | None) -> str:
        if password_env:
            password = os.environ.get(password_env, "")
            if not password:
                raise CommandError(f"環境変数 {password_env} にパスワードが設定されていません。")
            return password
        password = getpass.getpass("パスワード: ")
        if password != getpass.getpass("パスワード（確認）: "):
            raise CommandError("2回入力したパスワードが一致しません。")
        return password
