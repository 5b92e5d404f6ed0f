"""Migrate cases from an older system's CSV or XLSX (the same checks as the /migration/ screen)."""

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from casework.choices import Role
from casework.models import Membership, MigrationRecord
from casework.services.migration import (
    FileProblem,
    migration_run_apply,
    migration_run_cancel,
    migration_run_check,
    migration_run_start,
)


class Command(BaseCommand):
    help = (
        "ケースを以前のシステムのCSV（cp932/UTF-8/BOM付き）またはXLSXから移行します。"
        "列の対応は移行元ごとに覚えたもの（なければ見出しの名前）を使います。"
        "同じファイルを2回取り込んでも変化しません。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV または XLSX ファイル")
        parser.add_argument("--source", required=True, help="移行元の名称（列の対応と取り込み済みのキーを覚える単位）")
        parser.add_argument("--by", required=True, help="実施する管理者のログインID")
        parser.add_argument("--mapping", help='列の対応（JSON: {"family_name": "氏名（姓）", ...}）')
        parser.add_argument("--dry-run", action="store_true", help="確認だけして保存しない")

    def handle(self, *args, **options):
        user = get_user_model().objects.filter(username=options["by"], is_active=True).first()
        if (
            user is None
            or not Membership.objects.filter(
                user=user, role=Role.ADMINISTRATOR, is_active=True, organization__is_active=True
            ).exists()
        ):
            raise CommandError("--by には有効なシステム管理者のログインIDを指定してください")
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"ファイルを読めません: {error}") from None
        try:
            run = migration_run_start(source_name=options["source"], data=data, file_name=path.name, by=user)
            column_map = dict(run.column_map)
            if options["mapping"]:
                column_map.update(json.loads(options["mapping"]))
            run = migration_run_check(run=run, column_map=column_map, by=user)
        except (FileProblem, ValidationError, json.JSONDecodeError) as error:
            raise CommandError(" ".join(getattr(error, "messages", [str(error)]))) from None
        for problem in run.problems:
            where = f"{problem['row']}行目" if problem["row"] else "見出し"
            self.stdout.write(f"{where}「{problem['column']}」: {problem['message']}")
        labels = dict(MigrationRecord.Kind.choices)
        summary = "、".join(
            f"{labels[kind]} 新規{c['new']}件・取り込み済み{c['unchanged']}件" for kind, c in run.counts.items()
        )
        if run.problems:
            migration_run_cancel(run=run, by=user)
            raise CommandError(f"エラーが {len(run.problems)} 件あります。何も保存していません。")
        if options["dry_run"]:
            migration_run_cancel(run=run, by=user)
            self.stdout.write(f"確認のみ（保存していません）: {summary}")
            return
        try:
            migration_run_apply(run=run, by=user)
        except (FileProblem, ValidationError) as error:
            raise CommandError(" ".join(getattr(error, "messages", [str(error)]))) from None
        self.stdout.write(self.style.SUCCESS(f"取り込みました（実行 #{run.pk}）: {summary}"))
