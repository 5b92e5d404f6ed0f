"""Export every place as Excel-friendly CSV (UTF-8 with BOM or cp932) or XLSX."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from places.exports import export_places
from places.models import Place


class Command(BaseCommand):
    help = "居場所をCSV（BOM付きUTF-8またはcp932）またはXLSXで出力します。数式になる値は無害化します。"

    def add_arguments(self, parser):
        parser.add_argument("--output", help="出力ファイル（省略時は標準出力）")
        parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
        parser.add_argument("--encoding", choices=["utf-8-sig", "cp932"], default="utf-8-sig")

    def handle(self, *args, **options):
        queryset = Place.objects.select_related("operator").prefetch_related("schedules").order_by("id")
        exported = export_places(queryset, file_format=options["format"], encoding=options["encoding"])
        for r in exported.replacements:
            self.stderr.write(f"cp932で表せない文字を「〓」にしました: {r.row}行目 {r.column}列目「{r.character}」")
        if options["output"]:
            try:
                Path(options["output"]).write_bytes(exported.content)
            except OSError as error:
                raise CommandError(f"書き込めません: {error}") from None
            self.stderr.write(f"{queryset.count()} 件を {options['output']} に出力しました。")
        else:
            if options["format"] == "xlsx" and sys.stdout.isatty():
                raise CommandError("XLSXは --output で出力先を指定してください。")
            sys.stdout.buffer.write(exported.content)
            sys.stdout.buffer.flush()
