"""Old code and new code in the same run, on the same database: CPU per request and log writes per second.

The machine these figures come from is shared, so wall-clock time is noisy; this script measures what
a request costs instead of how fast it returns:

- `pages`: each page GET in-process (Django test client), per request: the Python process's CPU time
  (`time.process_time`, the whole server side: middleware, view, template, access-log write), the
  PostgreSQL backend's CPU time (utime + stime of the connection's backend from `/proc`, summed over
  the runs and divided), the statements sent and the wall time.
- `log_writers`: N processes each calling `casework.audit.log_access` in its own transaction (with
  its commit) for a fixed time; rows per second in total.

Each code tree (a git worktree of the old commit, and this one) runs in its own child process,
alternating old, new, old, new… for `--rounds` rounds, so both see the same load; the load average is
printed beside every figure. Results go to bench/compare.json.

    .venv/bin/python bench/compare.py pages --old ../perf-old --new . --rounds 3 --runs 10
    .venv/bin/python bench/compare.py log_writers --old ../perf-old --new . --writers 1 8 --seconds 10
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()
RESULTS = HERE.with_name("compare.json")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def backend_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 of stat; after the ")" they are the 12th and 13th.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _setup(tree: str) -> None:
    os.chdir(tree)
    sys.path.insert(0, tree)
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _personas() -> dict:
    """The pages and who opens them (the same personas as bench/run.py)."""
    from django.db.models import Count

    from casework.choices import Role
    from casework.models import Case, CaseGroupObjectPermission, Membership, Organization
    from meetings.models import Meeting

    loads = list(
        CaseGroupObjectPermission.objects.filter(
            permission__codename="view_case", group__organization__kind=Organization.Kind.WINDOW
        )
        .values("group_id")
        .annotate(n=Count("id"))
        .order_by("n")
    )
    group = loads[len(loads) // 2]["group_id"]
    worker = (
        Membership.objects.filter(organization__group_id=group, role=Role.CASEWORKER, is_active=True)
        .order_by("id")
        .first()
        .user
    )
    case = (
        Case.objects.filter(lead_organization__group_id=group)
        .annotate(n=Count("contacts"))
        .order_by("-n", "id")
        .first()
    )
    meeting = Meeting.objects.filter(status="scheduled").annotate(n=Count("items")).order_by("-n", "starts_at").first()
    city = (
        Membership.objects.filter(role=Role.CASEWORKER, organization__kind=Organization.Kind.MUNICIPAL, is_active=True)
        .order_by("id")
        .first()
        .user
    )
    return {
        "home (caseworker)": (worker, "/"),
        "case list": (worker, "/cases/"),
        f"case page ({case.n} records)": (worker, f"/cases/{case.pk}/"),
        f"meeting page ({meeting.n} items)": (meeting.chair, f"/meetings/{meeting.pk}/"),
        "indicators (municipal, 年度)": (city, "/indicators/"),
    }


def _client(user):
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from casework.accounts.second_factor import second_factor_required

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    if second_factor_required(user):
        device, _ = TOTPDevice.objects.get_or_create(user=user, name="bench", defaults={"confirmed": True})
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def child_pages(tree: str, runs: int, only: list[str]) -> dict:
    _setup(tree)
    from django.db import connection

    result = {}
    for name, (user, url) in _personas().items():
        if only and not any(o in name for o in only):
            continue
        client = _client(user)
        for _ in range(3):
            assert client.get(url).status_code == 200, (url, tree)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
        statements = []

        def count(execute, sql, params, many, context, statements=statements):
            statements.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            client.get(url)
        walls, cpus = [], []
        db_before = backend_cpu_seconds(backend)
        for _ in range(runs):
            w, c = time.perf_counter(), time.process_time()
            client.get(url)
            cpus.append(time.process_time() - c)
            walls.append(time.perf_counter() - w)
        db_cpu = (backend_cpu_seconds(backend) - db_before) / runs
        result[name] = {
            "url": url,
            "python_cpu_ms": round(statistics.median(cpus) * 1000, 1),
            "db_cpu_ms": round(db_cpu * 1000, 1),
            "wall_ms": round(statistics.median(walls) * 1000, 1),
            "queries": len(statements),
            "load": loadavg(),
        }
    return result


def child_writer(tree: str, seconds: float, start_at: float) -> dict:
    _setup(tree)
    from django.contrib.auth import get_user_model

    from casework import audit
    from casework.models import AccessLog

    user = get_user_model().objects.filter(is_active=True).order_by("id").first()
    audit.log_access(actor=user, action=AccessLog.Action.VIEW, object_type="bench")
    while time.time() < start_at:
        time.sleep(0.005)
    rows, end = 0, start_at + seconds
    latencies = []
    while time.time() < end:
        t = time.perf_counter()
        audit.log_access(actor=user, action=AccessLog.Action.VIEW, object_type="bench", object_id=str(rows))
        latencies.append(time.perf_counter() - t)
        rows += 1
    latencies.sort()
    p95 = latencies[int(0.95 * (len(latencies) - 1))] if latencies else float("nan")
    return {"rows": rows, "p95_ms": round(p95 * 1000, 2), "late_start": time.time() > start_at + seconds}


# Optional database per tree (log_writers: the old schema has no streams), set from --old-db/--new-db.
TREE_DATABASES: dict[str, str] = {}


def _run_child(tree: str, *args: str) -> subprocess.Popen:
    python = Path(tree) / ".venv" / "bin" / "python"
    env = {**os.environ}
    if tree in TREE_DATABASES:
        env["DATABASE_URL"] = TREE_DATABASES[tree]
    return subprocess.Popen(
        [str(python if python.exists() else sys.executable), str(HERE), "child", tree, *args],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


def _save(part: str, data: dict) -> None:
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results[part] = data
    RESULTS.write_text(json.dumps(results, ensure_ascii=False, indent=1))


def pages(old: str, new: str, rounds: int, runs: int, only: list[str]) -> None:
    collected: dict = {"old": [], "new": []}
    for r in range(rounds):
        for label, tree in (("old", old), ("new", new)):
            proc = _run_child(tree, "pages", str(runs), *only)
            out, _ = proc.communicate()
            data = json.loads(out.strip().splitlines()[-1])
            collected[label].append(data)
            for name, v in data.items():
                print(f"round {r + 1} {label:3} {name}: {v}", flush=True)
    summary = {}
    for name in collected["new"][0]:
        row = {}
        for label in ("old", "new"):
            values = [d[name] for d in collected[label] if name in d]
            row[label] = {
                k: round(statistics.median(v[k] for v in values), 1)
                for k in ("python_cpu_ms", "db_cpu_ms", "wall_ms", "queries")
            }
            row[label]["cpu_ms"] = round(row[label]["python_cpu_ms"] + row[label]["db_cpu_ms"], 1)
            row[label]["load"] = [v["load"] for v in values]
        row["cpu_ratio"] = round(row["old"]["cpu_ms"] / max(row["new"]["cpu_ms"], 0.1), 2)
        summary[name] = row
        print(f"{name}: old {row['old']} new {row['new']} ratio {row['cpu_ratio']}", flush=True)
    _save("pages", {"rounds": rounds, "runs": runs, "summary": summary})


def log_writers(old: str, new: str, writers: list[int], seconds: float, rounds: int) -> None:
    summary = {}
    for n in writers:
        for r in range(rounds):
            for label, tree in (("old", old), ("new", new)):
                load = loadavg()
                start_at = time.time() + 25  # every writer set up (Django, a connection) before any starts
                procs = [_run_child(tree, "writer", str(seconds), str(start_at)) for _ in range(n)]
                results = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
                rows = sum(x["rows"] for x in results)
                entry = summary.setdefault(f"{n} writers", {}).setdefault(label, [])
                entry.append(
                    {
                        "rows_per_s": round(rows / seconds),
                        "p95_ms": max(x["p95_ms"] for x in results),
                        "load": load,
                    }
                )
                print(f"{n} writers round {r + 1} {label}: {entry[-1]}", flush=True)
    _save("log_writers", {"seconds": seconds, "summary": summary})


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "child":
        tree, kind, *rest = sys.argv[2:]
        if kind == "pages":
            print(json.dumps(child_pages(tree, int(rest[0]), rest[1:]), ensure_ascii=False))
        else:
            print(json.dumps(child_writer(tree, float(rest[0]), float(rest[1]))))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("part", choices=["pages", "log_writers"])
    parser.add_argument("--old", required=True)
    parser.add_argument("--new", default=str(HERE.parents[1]))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--only", nargs="*", default=[])
    parser.add_argument("--writers", type=int, nargs="*", default=[1, 8])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--old-db", help="DATABASE_URL for the old tree (default: the environment's)")
    parser.add_argument("--new-db", help="DATABASE_URL for the new tree")
    args = parser.parse_args()
    if args.old_db:
        TREE_DATABASES[str(Path(args.old).resolve())] = args.old_db
    if args.new_db:
        TREE_DATABASES[str(Path(args.new).resolve())] = args.new_db
    print(f"load average at start: {loadavg()}", flush=True)
    if args.part == "pages":
        pages(str(Path(args.old).resolve()), str(Path(args.new).resolve()), args.rounds, args.runs, args.only)
    else:
        log_writers(
            str(Path(args.old).resolve()), str(Path(args.new).resolve()), args.writers, args.seconds, args.rounds
        )


if __name__ == "__main__":
    main()
