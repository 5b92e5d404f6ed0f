"""Verify the access log's hash chains day by day, and optionally against kept anchors."""

import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from casework.audit import ChainProblem, anchor_size, chain_days, check_anchor, parse_anchor, verify_day
from core.japanese import parse_date


def _day(value: str) -> date:
    try:
        return parse_date(value)
    except ValueError as exc:
        raise CommandError(str(exc)) from None


class Command(BaseCommand):
    help = "アクセス記録のハッシュチェーンを検証します（壊れていれば最初の行を示して終了コード1）。"

    def add_arguments(self, parser):
        parser.add_argument("--date", dest="day", help="この日だけを検証（例: 2025-04-01、令和7年4月1日）")
        parser.add_argument("--from", dest="start", help="この日から検証")
        parser.add_argument("--to", dest="end", help="この日まで検証")
        parser.add_argument("--anchors", help="anchor_access_log が書いたアンカーファイル（JSON Lines）と照合")

    def handle(self, *args, day=None, start=None, end=None, anchors=None, **options):
        if day and (start or end):
            raise CommandError("--date と --from/--to は同時に指定できません。")
        if day:
            start = end = _day(day)
        else:
            start = _day(start) if start else None
            end = _day(end) if end else None
        days = chain_days(start=start, end=end)
        if day and not days:
            days = [start]
        problems: list[ChainProblem] = []
        total = 0
        for chain_day in days:
            checked, problem = verify_day(chain_day)
            total += checked
            if problem:
                problems.append(problem)
                self.stdout.write(f"{chain_day.isoformat()}: NG（{checked} 行まで正常）")
            else:
                self.stdout.write(f"{chain_day.isoformat()}: OK {checked} 行")
        if anchors:
            problems.extend(self._check_anchors(anchors, start, end))
        if problems:
            first = problems[0]
            raise CommandError(
                f"改ざんまたは欠落を検出しました: 日付 {first.day.isoformat()} 連番 {first.seq} "
                f"ID {first.row_id if first.row_id is not None else '-'}: {first.message}"
                + (f"（ほか {len(problems) - 1} 件）" if len(problems) > 1 else "")
            )
        self.stdout.write(self.style.SUCCESS(f"検証成功: {len(days)} 日分 {total} 行"))

    def _check_anchors(self, path: str, start: date | None, end: date | None) -> list[ChainProblem]:
        try:
            with open(path, encoding="utf-8") as handle:
                lines = [line for line in handle.read().splitlines() if line.strip()]
        except OSError as exc:
            raise CommandError(f"アンカーファイルを読めません: {exc}") from None
        # The latest (highest) anchor of each day covers the earlier ones: the chain links them.
        latest: dict[date, dict] = {}
        for number, line in enumerate(lines, start=1):
            try:
                anchor = json.loads(line)
                day, _seq, _hash = parse_anchor(anchor)
            except (ValueError, TypeError):
                raise CommandError(f"アンカーファイル {number} 行目を読めません。") from None
            if (start and day < start) or (end and day > end):
                continue
            if day not in latest or anchor_size(anchor) >= anchor_size(latest[day]):
                latest[day] = anchor
        problems = []
        for day in sorted(latest):
            problem = check_anchor(latest[day])
            if problem:
                self.stdout.write(f"{day.isoformat()}: アンカー NG（{problem.message}）")
                problems.append(problem)
        self.stdout.write(f"アンカー照合: {len(latest)} 件（{len(lines)} 行のうち日ごとの最新）")
        return problems
