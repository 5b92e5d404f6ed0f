"""Append the chain heads (every stream's) of today and yesterday as JSON lines, for keeping outside the database.

Run it every few minutes (deploy/jusou-anchor-access-log.timer) as an OS user the application
cannot impersonate, writing to a file the application cannot write: a deleted tail of the day is
then caught by `verify_access_log --anchors` down to the missing seq numbers. Idempotent: a head
already in the file is not written again.
"""

import json
from datetime import timedelta
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from casework.audit import anchor_record, anchor_streams, verify_day
from core.japanese import parse_date


def _head_key(anchor: dict) -> tuple:
    """What makes two anchors the same: the day and every stream's head."""
    return (str(anchor["day"]), tuple(sorted(anchor_streams(anchor).items())))


def _anchored_heads(path: str) -> set[tuple]:
    """Return the heads already in the anchor file."""
    heads = set()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return heads
    except OSError as exc:
        raise CommandError(f"アンカーファイルを読めません: {exc}") from None
    for line in text.splitlines():
        try:
            anchor = json.loads(line)
            heads.add(_head_key(anchor))
        except (ValueError, KeyError, TypeError):
            continue
    return heads


class Command(BaseCommand):
    help = (
        "アクセス記録チェーンの末尾（日付・連番・ハッシュ・行数）をJSONで出力します"
        "（既定: 昨日と今日。同じ末尾はファイルに二度書きません）。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", dest="day", help="対象日（既定: 昨日と今日）")
        parser.add_argument("--output", help="追記するファイル（既定: 標準出力）")

    def handle(self, *args, day=None, output=None, **options):
        try:
            days = [parse_date(day)] if day else None
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if days is None:
            today = timezone.localdate()
            # Yesterday too: rows written just before midnight land after the last run of the day.
            days = [today - timedelta(days=1), today]
        known = _anchored_heads(output) if output else set()
        lines = []
        for chain_day in days:
            # Anchoring a broken chain would vouch for the tampering, so verify first.
            _checked, problem = verify_day(chain_day)
            if problem:
                raise CommandError(
                    f"チェーンが壊れているためアンカーを書きません: 日付 {problem.day.isoformat()} "
                    f"連番 {problem.seq} ID {problem.row_id}: {problem.message}"
                )
            record = anchor_record(chain_day)
            if record["rows"] == 0 and day is None:
                continue  # nothing logged that day (yet)
            if _head_key(record) in known:
                continue
            lines.append(json.dumps(record, ensure_ascii=False, sort_keys=True))
        if not output:
            for line in lines:
                self.stdout.write(line)
            return
        if not lines:
            self.stderr.write(f"{output}: 変化なし（アンカー済み）")
            return
        try:
            with open(output, "a", encoding="utf-8") as handle:
                handle.write("".join(line + "\n" for line in lines))
        except OSError as exc:
            raise CommandError(f"アンカーファイルに書けません: {exc}") from None
        for line in lines:
            self.stderr.write(f"{output} に追記しました: {line}")
