"""Import places from a CSV or XLSX file (dry run first with --dry-run)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from casework.models import Organization
from places.imports import FileProblem, parse_places_file, run_import


class Command(BaseCommand):
    help = "居場所をCSV（UTF-8/BOM付き/cp932）またはXLSXから取り込みます。同じファイルを2回取り込んでも変化しません。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV または XLSX ファイル")
        parser.add_argument("--dry-run", action="store_true", help="確認だけして保存しない")
        parser.add_argument("--encoding", choices=["auto", "utf-8", "cp932"], default="auto")
        parser.add_argument("--operator", help="すべての行をこの運営団体（正式名称）の居場所として取り込む")

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"ファイルを読めません: {error}") from None
        operator = None
        if options["operator"]:
            operator = Organization.objects.filter(name=options["operator"], is_active=True).first()
            if operator is None:
                raise CommandError(f"運営団体が見つかりません: {options['operator']}")
        file_format = "xlsx" if path.suffix.lower() == ".xlsx" else "csv"
        try:
            parsed = parse_places_file(
                data, file_format=file_format, encoding=options["encoding"], forced_operator=operator
            )
        except FileProblem as problem:
            raise CommandError(str(problem)) from None
        total = len(parsed.row_numbers)

        def progress(index: int) -> None:
            if index % 500 == 0:
                self.stderr.write(f"  {index}/{total} 行")

        outcome = run_import(parsed, dry_run=options["dry_run"], operator=operator, progress=progress)
        for row in outcome.rows:
            if row["type"] == "error":
                self.stdout.write(f"{row['row']}行目 エラー: {row['name']}: {' / '.join(row['errors'])}")
        label = "確認のみ（保存していません）" if options["dry_run"] else "取り込み"
        summary = (
            f"{label}: 新規 {outcome.created} 件、更新 {outcome.updated} 件、"
            f"変更なし {outcome.unchanged} 件、エラー {outcome.errors} 件"
            f"（文字コード: {parsed.encoding or 'xlsx'}）"
        )
        if outcome.errors:
            raise CommandError(summary + "。エラーがあるため何も保存していません。")
        self.stdout.write(self.style.SUCCESS(summary))
