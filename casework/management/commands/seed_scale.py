"""Generate a city-scale data set for the benchmarks (PostgreSQL only; see BENCHMARKS.md)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection


class Command(BaseCommand):
    help = (
        "ベンチマーク用に市の規模のデータ（機関80・職員1,000・ケース25,000・アクセス記録500万件など）を"
        "PostgreSQL に COPY で作成します。--scale で倍率を変えられます。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=float, default=1.0, help="既定の件数に掛ける倍率（例: 0.02、10）")
        parser.add_argument("--seed", type=int, default=2026, help="乱数の種（同じ種なら同じ内容）")
        parser.add_argument("--force", action="store_true", help="データがあるデータベースにも追加する")
        parser.add_argument("--skip-access-log", action="store_true", help="アクセス記録を作らない")
        parser.add_argument("--access-log-rows", type=int, help="アクセス記録の件数（既定は 500万 × scale）")

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError("seed_scale は PostgreSQL 専用です。DATABASE_URL に PostgreSQL を指定してください。")
        if not 0 < options["scale"] <= 100:
            raise CommandError("--scale は 0 より大きく 100 以下にしてください。")
        from casework.models import AccessLog, Case

        if not options["force"] and (Case.objects.exists() or AccessLog.objects.exists()):
            raise CommandError("データベースが空ではありません。追加するには --force を付けてください。")
        # A dev tool: the generator imports the higher apps' models lazily, inside bench.seed_scale.seed,
        # so casework keeps no import-time dependency on places, referrals or meetings.
        from bench.seed_scale import seed

        self.stdout.write(f"scale {options['scale']} で生成します…")
        counts = seed(
            scale=options["scale"],
            seed_value=options["seed"],
            log=self.stdout.write,
            skip_access_log=options["skip_access_log"],
            access_log_rows=options["access_log_rows"],
        )
        self.stdout.write(self.style.SUCCESS("完了: " + "、".join(f"{k} {v:,}" for k, v in counts.items())))
