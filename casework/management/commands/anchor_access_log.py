"""Write a day's chain head as one JSON line, for keeping outside the database."""

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from casework.audit import anchor_record, verify_day
from casework.japanese import parse_date


class Command(BaseCommand):
    help = "その日のアクセス記録チェーンの末尾（日付・連番・ハッシュ・行数）をJSONで出力します。"

    def add_arguments(self, parser):
        parser.add_argument("--date", dest="day", help="対象日（既定: 今日）")
        parser.add_argument("--output", help="追記するファイル（既定: 標準出力）")

    def handle(self, *args, day=None, output=None, **options):
        try:
            day = parse_date(day) if day else timezone.localdate()
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        # Anchoring a broken chain would vouch for the tampering, so verify first.
        checked, problem = verify_day(day)
        if problem:
            raise CommandError(
                f"チェーンが壊れているためアンカーを書きません: 日付 {problem.day.isoformat()} "
                f"連番 {problem.seq} ID {problem.row_id}: {problem.message}"
            )
        line = json.dumps(anchor_record(day), ensure_ascii=False, sort_keys=True)
        if output:
            try:
                with open(output, "a", encoding="utf-8") as handle:
                    handle.write(line + "\n")
            except OSError as exc:
                raise CommandError(f"アンカーファイルに書けません: {exc}") from None
            self.stderr.write(f"{output} に追記しました: {line}")
        else:
            self.stdout.write(line)
