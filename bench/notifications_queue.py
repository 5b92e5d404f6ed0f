"""Notification fan-out cost per event, and job-worker throughput, on PostgreSQL (issue 17).

    createdb jusou_bench_queue      # any empty database; it is migrated here
    BENCH_QUEUE_DATABASE_URL=postgres://postgres@127.0.0.1:5432/jusou_bench_queue \\
        .venv/bin/python bench/notifications_queue.py [--runs 40] [--jobs 400]

Fan-out: `notify()` for one event to an organization of N receiving members (N = 1, 10, 50, 200), each in
its own transaction with its commit, as a service calls it; median and p95 per event, per recipient, and
statements per event. Throughput: W worker processes (`manage.py run_worker`, W = 1 and 2) already running
and polling every 50 ms, then J no-op jobs enqueued in one transaction; jobs/s from the commit until the last
one is SUCCESSFUL. The load average is printed before and after each part: on a shared machine it says how
much the figures are worth. Nothing here is part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/jusou_bench_queue"


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f} (1/5/15 min, {os.cpu_count()} cores)"


def setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["DEBUG"] = "false"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def fanout(runs: int) -> list[dict]:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from casework.choices import Role
    from casework.models import Membership, Notification, NotificationKind, Organization
    from casework.notifications.services import notify

    User = get_user_model()
    rows = []
    for size in (1, 10, 50, 200):
        org, _ = Organization.objects.get_or_create(name=f"ベンチ機関{size}", defaults={"kind": "window"})
        have = Membership.objects.filter(organization=org).count()
        for i in range(have, size):
            user = User.objects.create_user(username=f"bench-{size}-{i}", password=None)
            Membership.objects.create(user=user, organization=org, role=Role.CASEWORKER)
        timings, statements = [], []
        for run in range(runs + 3):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                with transaction.atomic():
                    notify(
                        kind=NotificationKind.REFERRAL_RECEIVED,
                        summary=f"ベンチ #{run}",
                        organizations=[org],
                    )
                elapsed = time.perf_counter() - started
            if run >= 3:  # warm-up
                timings.append(elapsed * 1000)
                statements.append(len(queries))
        Notification.objects.filter(organization=org).delete()
        median = statistics.median(timings)
        rows.append(
            {
                "recipients": size,
                "median_ms": median,
                "p95_ms": p95(timings),
                "per_recipient_ms": median / size,
                "statements": statistics.median(statements),
            }
        )
    return rows


def throughput(jobs: int, workers: int) -> dict:
    from django.db import transaction
    from django_tasks_db.models import DBTaskResult

    from bench.tasks import noop
    from casework.models import WorkerHeartbeat

    DBTaskResult.objects.all().delete()
    WorkerHeartbeat.objects.all().delete()
    env = {**os.environ, "LOG_LEVEL": "WARNING"}
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "run_worker",
                "--no-reload",
                "--interval",
                "0.05",
                "--worker-id",
                f"bench-{w}",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for w in range(workers)
    ]
    try:
        deadline = time.monotonic() + 120
        while WorkerHeartbeat.objects.filter(stopped_at__isnull=True).count() < workers:
            if time.monotonic() > deadline:
                raise SystemExit("the workers did not start within 120 s")
            time.sleep(0.2)
        with transaction.atomic():
            for n in range(jobs):
                noop.enqueue(n)
        started = time.perf_counter()
        deadline = time.monotonic() + 600
        while DBTaskResult.objects.filter(status="SUCCESSFUL").count() < jobs:
            if time.monotonic() > deadline:
                raise SystemExit("the jobs did not finish within 600 s")
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        per_worker = dict((ids[0], 0) for ids in DBTaskResult.objects.values_list("worker_ids", flat=True) if ids)
        for ids in DBTaskResult.objects.values_list("worker_ids", flat=True):
            per_worker[ids[0]] += 1
        assert DBTaskResult.objects.exclude(status="SUCCESSFUL").count() == 0
        return {"workers": workers, "jobs": jobs, "seconds": elapsed, "jobs_per_s": jobs / elapsed, "split": per_worker}
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=400)
    args = parser.parse_args()
    setup(os.environ.get("BENCH_QUEUE_DATABASE_URL", DEFAULT_URL))
    from django.db import connection

    print(f"PostgreSQL {connection.cursor().connection.info.server_version}, Python {sys.version.split()[0]}")
    print(f"load before fan-out: {load()}")
    rows = fanout(args.runs)
    print(f"load after fan-out:  {load()}")
    print("\n| recipients | median ms / event | p95 ms | ms per recipient | statements / event |")
    print("|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['recipients']} | {row['median_ms']:.1f} | {row['p95_ms']:.1f} | "
            f"{row['per_recipient_ms']:.2f} | {row['statements']:.0f} |"
        )
    print()
    results = []
    for workers in (1, 2):
        print(f"load before {workers} worker(s): {load()}")
        results.append(throughput(args.jobs, workers))
        print(f"load after {workers} worker(s):  {load()}")
    print("\n| workers | jobs | seconds | jobs/s | jobs per worker |")
    print("|---:|---:|---:|---:|---|")
    for r in results:
        split = ", ".join(str(n) for n in sorted(r["split"].values(), reverse=True))
        print(f"| {r['workers']} | {r['jobs']} | {r['seconds']:.1f} | {r['jobs_per_s']:.0f} | {split} |")


if __name__ == "__main__":
    main()
