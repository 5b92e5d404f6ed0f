"""Measure the city-scale figures against PostgreSQL and Redis and write them into BENCHMARKS.md.

Run all parts:   make bench            (or: .venv/bin/python bench/run.py)
Run one part:    .venv/bin/python bench/run.py case_list [--runs 30]
Parts: case_list case_detail referral_inbox places meeting audit dashboard transitions
       access_log verify import fanout load
Needs a database filled by `python -m bench.seed_scale`; never part of `make test`, nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"
BENCHMARKS = ROOT / "BENCHMARKS.md"
PY = sys.executable

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Production-like: DEBUG off whatever the caller's environment says.
os.environ["DEBUG"] = "false"
sys.path.insert(0, str(ROOT))


def setup_django():
    import django

    django.setup()


def stats(samples: list[float]) -> dict:
    """Return median and p95 in milliseconds."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {"median_ms": round(statistics.median(ordered) * 1000, 2), "p95_ms": round(p95 * 1000, 2), "n": len(ordered)}


def timed(fn, runs: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def record(part: str, name: str, **values) -> None:
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data.setdefault(part, {})[name] = {**values, "measured_at": datetime.now(tz=UTC).isoformat(timespec="seconds")}
    RESULTS.write_text(json.dumps(data, ensure_ascii=False, indent=1))
    print(f"  {part}/{name}: {values}", flush=True)


# ---------------------------------------------------------------------------
# Personas picked from the seeded data
# ---------------------------------------------------------------------------


def caseworker_with_median_caseload():
    """Return a window caseworker whose organization holds the median number of case grants."""
    from django.db.models import Count

    from casework.choices import Role
    from casework.models import CaseGroupObjectPermission, Membership, Organization

    loads = (
        CaseGroupObjectPermission.objects.filter(
            permission__codename="view_case", group__organization__kind=Organization.Kind.WINDOW
        )
        .values("group_id")
        .annotate(n=Count("id"))
        .order_by("n")
    )
    loads = list(loads)
    median_group = loads[len(loads) // 2]["group_id"]
    m = (
        Membership.objects.filter(organization__group_id=median_group, role=Role.CASEWORKER, is_active=True)
        .select_related("user", "organization")
        .order_by("id")
        .first()
    )
    return m.user, m.organization, loads[len(loads) // 2]["n"]


def client_for(user):
    """A signed-in test client; roles that need a second factor get a verified TOTP device in the session."""
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


def measure_view(part: str, name: str, client, url: str, runs: int, raw=None) -> None:
    """Time a GET in-process (server time: middleware, view, template) and count its SQL queries."""
    from django.db import connection

    def get():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return response

    executed = []

    def count(execute, sql, params, many, context):
        executed.append(sql)
        return execute(sql, params, many, context)

    get()  # the first request opens the connection; count on a warm one
    with connection.execute_wrapper(count):
        get()
    samples = timed(get, runs)
    values = {"url": url, "queries": len(executed), **stats(samples)}
    if raw is not None:
        raw_stats = stats(timed(raw, runs))
        values["raw_median_ms"] = raw_stats["median_ms"]
        values["raw_p95_ms"] = raw_stats["p95_ms"]
        values["ratio_to_raw"] = round(values["median_ms"] / max(raw_stats["median_ms"], 0.001), 1)
    record(part, name, **values)


def raw_query(sql: str, params):
    from django.db import connection

    def run():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    return run


CASE_PAGE_SQL = """
WITH page AS (
  SELECT c.id, c.number, c.state, c.opened_on, c.next_review_on, h.name AS household, o.name AS lead_org,
         u.last_name || ' ' || u.first_name AS lead_worker
  FROM casework_case c
  JOIN casework_household h ON h.id = c.household_id
  JOIN casework_organization o ON o.id = c.lead_organization_id
  LEFT JOIN auth_user u ON u.id = c.lead_worker_id
  WHERE c.id IN (SELECT gp.content_object_id FROM casework_casegroupobjectpermission gp
                 WHERE gp.group_id = ANY(%(groups)s) AND gp.permission_id = %(perm)s)
  {extra}
  ORDER BY c.opened_on DESC, c.id DESC LIMIT 25)
SELECT page.*, (SELECT array_agg(p.family_name || ' ' || p.given_name ORDER BY s.id)
                FROM casework_casesubject s JOIN casework_person p ON p.id = s.person_id WHERE s.case_id = page.id),
       (SELECT array_agg(d.domain) FROM casework_casedomain d WHERE d.case_id = page.id),
       (SELECT count(*) FROM casework_case c2 WHERE c2.id IN (
            SELECT gp.content_object_id FROM casework_casegroupobjectpermission gp
            WHERE gp.group_id = ANY(%(groups)s) AND gp.permission_id = %(perm)s) {extra2})
FROM page ORDER BY page.opened_on DESC, page.id DESC
"""


def part_case_list(runs: int) -> None:
    from django.contrib.auth.models import Permission

    from casework.models import CaseSubject

    user, org, load = caseworker_with_median_caseload()
    client = client_for(user)
    perm = Permission.objects.get(codename="view_case", content_type__app_label="casework").id
    groups = [org.group_id]
    subject = CaseSubject.objects.filter(case__lead_organization=org).select_related("person").first()
    kana = subject.person.family_name_kana
    print(f"case list as {user.username} of {org} ({load} cases granted)")
    measure_view(
        "case_list",
        "first page",
        client,
        "/cases/",
        runs,
        raw_query(CASE_PAGE_SQL.format(extra="", extra2=""), {"groups": groups, "perm": perm}),
    )
    measure_view(
        "case_list",
        "filtered (支援中)",
        client,
        "/cases/?state=in_support",
        runs,
        raw_query(
            CASE_PAGE_SQL.format(extra="AND c.state = 'in_support'", extra2="AND c2.state = 'in_support'"),
            {"groups": groups, "perm": perm},
        ),
    )
    measure_view(
        "case_list",
        f"search (q={kana})",
        client,
        f"/cases/?q={kana}",
        runs,
        raw_query(
            CASE_PAGE_SQL.format(
                extra="AND EXISTS (SELECT 1 FROM casework_casesubject s JOIN casework_person p ON p.id = s.person_id "
                "WHERE s.case_id = c.id AND p.search_key LIKE %(key)s)",
                extra2="AND EXISTS (SELECT 1 FROM casework_casesubject s JOIN casework_person p ON p.id = s.person_id "
                "WHERE s.case_id = c2.id AND p.search_key LIKE %(key)s)",
            ),
            {"groups": groups, "perm": perm, "key": f"%{kana}%"},
        ),
    )
    record("case_list", "persona", username=user.username, organization=str(org), cases_granted=load)


def part_case_detail(runs: int) -> None:
    from django.db.models import Count

    from casework.models import Case

    user, org, _load = caseworker_with_median_caseload()
    case = Case.objects.filter(lead_organization=org).annotate(n=Count("contacts")).order_by("-n", "id").first()
    measure_view("case_detail", f"case with {case.n} records", client_for(user), f"/cases/{case.pk}/", runs)


REFERRAL_INBOX_SQL = """
SELECT r.id, r.kind, r.state, r.card_name, r.due_on, so.name, ro.name, su.username, pl.name
FROM referrals_referral r
JOIN casework_organization so ON so.id = r.sender_organization_id
JOIN casework_organization ro ON ro.id = r.receiver_organization_id
JOIN auth_user su ON su.id = r.sender_user_id
LEFT JOIN places_place pl ON pl.id = r.place_id
WHERE r.id IN (SELECT gp.content_object_id FROM referrals_referralgroupobjectpermission gp
               WHERE gp.group_id = ANY(%(groups)s) AND gp.permission_id = %(perm)s)
  AND r.receiver_organization_id = ANY(%(orgs)s) AND r.state <> 'draft'
ORDER BY r.sent_at DESC NULLS LAST, r.created_at DESC, r.id DESC LIMIT 200
"""


def part_referral_inbox(runs: int) -> None:
    from django.contrib.auth.models import Permission
    from django.db.models import Count

    from casework.choices import Role
    from casework.models import Membership

    busiest = (
        Membership.objects.filter(role=Role.CASEWORKER, organization__kind="window")
        .values("organization_id")
        .annotate(n=Count("organization__received_referrals", distinct=True))
        .order_by("-n")
        .first()
    )
    m = Membership.objects.filter(organization_id=busiest["organization_id"], role=Role.CASEWORKER).select_related(
        "user", "organization"
    )[0]
    perm = Permission.objects.get(codename="view_referral").id
    measure_view(
        "referral_inbox",
        f"inbox ({busiest['n']} received)",
        client_for(m.user),
        "/referrals/",
        runs,
        raw_query(REFERRAL_INBOX_SQL, {"groups": [m.organization.group_id], "perm": perm, "orgs": [m.organization_id]}),
    )


def part_places(runs: int) -> None:
    from casework.choices import Role
    from casework.models import Membership

    m = Membership.objects.filter(role=Role.CASEWORKER).select_related("user").first()
    client = client_for(m.user)
    measure_view(
        "places",
        "directory search (q=カフェ)",
        client,
        "/places/?q=カフェ",
        runs,
        raw_query(
            "SELECT id, name, area, kind FROM places_place WHERE is_active AND search_text LIKE %s "
            "ORDER BY name, id LIMIT 25",
            ["%カフェ%"],
        ),
    )
    measure_view(
        "places",
        "matching (age 70, 月水, お茶)",
        client,
        "/places/match/?age=70&weekdays=0&weekdays=2&interests=お茶",
        runs,
    )


def part_meeting(runs: int) -> None:
    from meetings.models import Meeting

    meeting = Meeting.objects.filter(status="scheduled").select_related("chair").order_by("starts_at").first()
    measure_view(
        "meeting",
        f"meeting page ({meeting.items.count()} items)",
        client_for(meeting.chair),
        f"/meetings/{meeting.pk}/",
        runs,
    )


AUDIT_SQL = """
SELECT id, at, actor_username, action, object_type, object_id, person_ids, basis, outcome
FROM casework_accesslog WHERE {where} ORDER BY at DESC, id DESC LIMIT 50
"""


def part_audit(runs: int) -> None:
    """The auditor's filtered log: the real screen (/audit/) and its queries, each against raw SQL."""
    from django.contrib.auth import get_user_model

    from casework.choices import Role
    from casework.models import AccessLog, Membership

    total = AccessLog.objects.count()
    sample = (
        AccessLog.objects.filter(object_type="case").exclude(object_id="").order_by("id")[total // 2 : total // 2 + 1]
    )
    row = sample[0]
    end = row.at
    start = end - timedelta(days=30)
    person = row.person_ids[0]

    def orm(**filters):
        return lambda: list(AccessLog.objects.filter(**filters).order_by("-at", "-id")[:50])

    auditor = Membership.objects.filter(role=Role.AUDITOR, is_active=True).select_related("user").first()
    if auditor is None:  # seed_scale makes no auditor: add one to the municipal office
        from casework.models import Organization
        from casework.services.memberships import membership_add

        user = get_user_model().objects.create_user("bench_auditor", password=None)
        office = Organization.objects.filter(kind=Organization.Kind.MUNICIPAL).first()
        auditor = membership_add(user=user, organization=office, role=Role.AUDITOR)
    client = client_for(auditor.user)
    day = "%Y-%m-%d"
    actor_name = AccessLog.objects.filter(actor_id=row.actor_id).values_list("actor_username", flat=True).first()
    screens = [
        (
            "screen: by actor, 30 days",
            {"actor": actor_name, "date_from": start.strftime(day), "date_to": end.strftime(day)},
        ),
        ("screen: by case object", {"object_type": "case", "object_id": row.object_id}),
        ("screen: by person, all time", {"person": person}),
        (
            "screen: denied, 30 days",
            {"action": "denied", "date_from": start.strftime(day), "date_to": end.strftime(day)},
        ),
    ]
    from urllib.parse import urlencode

    for name, params in screens:
        measure_view("audit", name, client, "/audit/?" + urlencode(params), runs)

    for name, filters, where, params in [
        (
            "by actor, 30 days",
            {"actor_id": row.actor_id, "at__gte": start, "at__lt": end},
            "actor_id = %s AND at >= %s AND at < %s",
            [row.actor_id, start, end],
        ),
        (
            "by case object",
            {"object_type": "case", "object_id": row.object_id},
            "object_type = 'case' AND object_id = %s",
            [row.object_id],
        ),
        ("by person, all time", {"person_ids__contains": [person]}, "person_ids @> %s::jsonb", [json.dumps([person])]),
        (
            "denied, 30 days",
            {"action": "denied", "at__gte": start, "at__lt": end},
            "action = 'denied' AND at >= %s AND at < %s",
            [start, end],
        ),
    ]:
        orm_stats = stats(timed(orm(**filters), runs))
        raw_stats = stats(timed(raw_query(AUDIT_SQL.format(where=where), params), runs))
        record(
            "audit",
            name,
            rows_in_log=total,
            **orm_stats,
            raw_median_ms=raw_stats["median_ms"],
            raw_p95_ms=raw_stats["p95_ms"],
            ratio_to_raw=round(orm_stats["median_ms"] / max(raw_stats["median_ms"], 0.001), 1),
        )


def part_dashboard(runs: int) -> None:
    """The caseworker's home page and the municipality's indicators dashboard (this 年度, all organizations)."""
    from casework.choices import Role
    from casework.models import Membership, Organization

    user, _org, _load = caseworker_with_median_caseload()
    measure_view("dashboard", "home (caseworker)", client_for(user), "/", runs)
    city = (
        Membership.objects.filter(role=Role.CASEWORKER, organization__kind=Organization.Kind.MUNICIPAL, is_active=True)
        .select_related("user")
        .first()
    )
    measure_view("dashboard", "indicators (municipal office, 年度)", client_for(city.user), "/indicators/", runs)


def part_transitions(runs: int) -> None:
    """Time a referral acceptance and a case transition through the services (each run commits)."""
    from casework.choices import Role
    from casework.models import Case, CaseState, Membership
    from casework.services.cases import case_transition
    from referrals import services as referral_services
    from referrals.models import Referral, ReferralKind, ReferralState

    referrals = list(
        Referral.objects.filter(state=ReferralState.REQUESTED, kind=ReferralKind.INTER_AGENCY).order_by("id")[
            : runs + 3
        ]
    )
    samples = []
    for i, referral in enumerate(referrals):
        by = (
            Membership.objects.filter(
                organization_id=referral.receiver_organization_id, role=Role.CASEWORKER, is_active=True
            )
            .select_related("user")
            .first()
        )
        if by is None:
            continue
        start = time.perf_counter()
        referral_services.referral_move(move="accept", referral=referral, by=by.user)
        if i >= 3:
            samples.append(time.perf_counter() - start)
    record("transitions", "referral acceptance (transition, grants, access log)", **stats(samples))
    cases = list(Case.objects.filter(state=CaseState.INTAKE).select_related("lead_worker").order_by("id")[: runs + 3])
    samples = []
    for i, case in enumerate(cases):
        start = time.perf_counter()
        case_transition(case=case, to_state=CaseState.ASSESSMENT, by=case.lead_worker)
        if i >= 3:
            samples.append(time.perf_counter() - start)
    record("transitions", "case transition (受付→アセスメント)", **stats(samples))


def part_access_log(runs: int) -> None:
    """Time one log_access call (the per-request overhead of the access log) on today's chain."""
    from django.db import transaction

    from casework import audit
    from casework.models import AccessLog, Membership

    m = Membership.objects.filter(role="caseworker").select_related("user").first()

    def write():
        with transaction.atomic():
            audit.log_access(
                actor=m.user,
                action=AccessLog.Action.VIEW,
                object_type="case",
                object_id=1,
                person_ids=[1, 2],
                basis="own_org",
            )

    record(
        "access_log", "log_access per request (own transaction, commit with WAL flush)", **stats(timed(write, runs * 3))
    )

    def write_inside():
        # A request that writes anyway commits once; the log then costs lock, head read and insert only.
        with transaction.atomic():
            write()
            transaction.set_rollback(True)

    record("access_log", "log_access inside a writing request's transaction", **stats(timed(write_inside, runs * 3)))


def part_verify(runs: int) -> None:
    from django.db.models import Count

    from casework.audit import verify_day
    from casework.models import AccessLog

    day = AccessLog.objects.values("day").annotate(n=Count("id")).order_by("-n").first()
    samples = []
    for _ in range(max(1, min(runs, 3))):
        start = time.perf_counter()
        checked, problem = verify_day(day["day"])
        samples.append(time.perf_counter() - start)
        assert problem is None, problem
    record("verify", f"verify one day ({checked:,} rows)", **stats(samples))


IMPORT_CHILD = """
import os, resource, sys, time
sys.path.insert(0, {root!r})
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
import django; django.setup()
from django.core.management import call_command
from django.db import transaction
from places.models import Place
start = time.perf_counter()
try:
    with transaction.atomic():
        before = Place.objects.count()
        call_command("import_places", {path!r}, "--encoding", "cp932")
        elapsed = time.perf_counter() - start
        imported = Place.objects.count() - before
        raise RuntimeError("rollback")  # leave the benchmark database as it was
except RuntimeError:
    pass
print("RESULT", elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, imported)
"""


def part_import(runs: int) -> None:
    """Import 10,000 places from a generated cp932 CSV in a subprocess: seconds and peak RSS."""
    from casework.models import Organization
    from core.spreadsheets import encode_csv

    operators = list(Organization.objects.filter(kind=Organization.Kind.PLACE_OPERATOR).values_list("name", flat=True))
    header = [
        "外部ID",
        "運営団体",
        "名称",
        "種別",
        "地区",
        "住所",
        "開催日時",
        "対象",
        "活動",
        "配慮",
        "費用",
        "参加支援の受入",
        "担当者",
        "電話番号",
    ]
    rows = [
        [
            f"IMPORT-{i}",
            operators[i % len(operators)],
            f"髙橋さんちの子ども食堂{i}号",
            "子ども食堂",
            "東",
            f"みどり市東原{i % 50}-{i % 7}",
            "第2・第4土曜 11:00～14:00",
            "子ども、子育て家庭",
            "料理、食事",
            "アレルギー対応、子連れ可",
            "子ども無料",
            "はい",
            "渡邊",
            "0000-22-3333",
        ]
        for i in range(10_000)
    ]
    data, _replaced = encode_csv(header, rows, encoding="cp932")
    path = ROOT / "var" / "bench_places_cp932.csv"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    out = subprocess.run(
        [PY, "-c", IMPORT_CHILD.format(root=str(ROOT), path=str(path))], capture_output=True, text=True, check=False
    )
    line = [x for x in out.stdout.splitlines() if x.startswith("RESULT")]
    if not line:
        print(out.stdout[-2000:], out.stderr[-2000:])
        raise SystemExit("import failed")
    _tag, seconds, maxrss_kb, imported = line[0].split()
    if int(imported) != 10_000:
        raise SystemExit(f"the import saved {imported} new places, not 10,000")
    record(
        "import",
        "10,000 places from cp932 CSV",
        seconds=round(float(seconds), 1),
        peak_rss_mb=round(int(maxrss_kb) / 1024),
    )


# ---------------------------------------------------------------------------
# Live parts: daphne processes on loopback
# ---------------------------------------------------------------------------


def start_daphnes(ports):
    env = {**os.environ, "DEBUG": "false"}
    procs = [
        subprocess.Popen(
            [PY, "-m", "daphne", "-b", "127.0.0.1", "-p", str(p), "config.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for p in ports
    ]
    import urllib.request

    deadline = time.monotonic() + 60
    for p in ports:
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{p}/healthz", timeout=2)  # noqa: S310 - loopback
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
    return procs


def stop(procs):
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()


def session_cookie(user) -> tuple[str, str]:
    from django.conf import settings

    client = client_for(user)
    return settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value


def part_fanout(runs: int) -> None:
    """From the chair's change (service call, commit, Redis) to receipt by 30 clients on two daphne processes."""
    import asyncio

    import websockets

    from meetings import services
    from meetings.models import Meeting, MeetingParticipant

    meeting = Meeting.objects.filter(status="scheduled").select_related("chair").order_by("starts_at").first()
    users = [
        p.user
        for p in MeetingParticipant.objects.filter(meeting=meeting, removed_at__isnull=True).select_related("user")
    ]
    cookies = [session_cookie(u) for u in users]
    items = list(meeting.items.order_by("order"))
    ports = [8711, 8712]
    procs = start_daphnes(ports)
    try:

        async def main():
            conns = []
            for i in range(30):
                name, value = cookies[i % len(cookies)]
                port = ports[i % 2]
                ws = await websockets.connect(
                    f"ws://127.0.0.1:{port}/ws/meetings/{meeting.pk}/",
                    additional_headers={"Cookie": f"{name}={value}", "Origin": f"http://127.0.0.1:{port}"},
                )
                hello = json.loads(await ws.recv())
                assert hello["type"] == "hello", hello
                conns.append(ws)
            await asyncio.sleep(1)
            latencies, all_received = [], []
            for run in range(runs + 3):
                item = items[run % len(items)]

                def change(item=item):
                    m = Meeting.objects.get(pk=meeting.pk)
                    return services.agenda_set_current(meeting=m, item=item, by=meeting.chair).version

                async def wait_for(ws, version):
                    while True:
                        msg = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
                        if msg.get("type") == "meeting.changed" and msg.get("version", 0) >= version:
                            return time.perf_counter()

                start = time.perf_counter()
                version_task = asyncio.to_thread(change)
                version = await version_task
                received = await asyncio.gather(*(wait_for(ws, version) for ws in conns))
                if run >= 3:
                    latencies.extend(t - start for t in received)
                    all_received.append(max(received) - start)
            for ws in conns:
                await ws.close()
            return latencies, all_received

        latencies, all_received = asyncio.run(main())
        record("fanout", "per client receipt (30 clients, 2 processes)", **stats(latencies))
        record("fanout", "until all 30 received", **stats(all_received))
    finally:
        stop(procs)


def part_load(runs: int, seconds: int = 60) -> None:
    """Sustained mixed GETs on loopback against two daphne processes: requests/s at zero errors, p95."""
    import asyncio
    import urllib.parse

    from casework.models import Case

    user, org, _load = caseworker_with_median_caseload()
    name, value = session_cookie(user)
    case_ids = list(Case.objects.filter(lead_organization=org).values_list("id", flat=True)[:50])
    paths = ["/", "/cases/", "/cases/?state=in_support", "/referrals/", "/places/?q=" + urllib.parse.quote("カフェ")]
    paths += [f"/cases/{pk}/" for pk in case_ids[:10]]
    ports = [8721, 8722]
    procs = start_daphnes(ports)

    async def one(port, path):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        request = (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {name}={value}\r\nConnection: close\r\n\r\n"
        )
        writer.write(request.encode())
        await writer.drain()
        data = await reader.read()
        writer.close()
        return int(data.split(b" ", 2)[1])

    async def main():
        latencies, errors, done = [], 0, 0
        stop_at = time.monotonic() + seconds
        max_requests = 50_000

        async def worker(w):
            nonlocal errors, done
            i = w
            while time.monotonic() < stop_at and done < max_requests:
                path = paths[i % len(paths)]
                i += 1
                start = time.perf_counter()
                try:
                    status = await one(ports[i % 2], path)
                except OSError:
                    status = 0
                latencies.append(time.perf_counter() - start)
                done += 1
                if status != 200:
                    errors += 1

        start = time.monotonic()
        await asyncio.gather(*(worker(w) for w in range(8)))
        return latencies, errors, time.monotonic() - start

    try:
        latencies, errors, elapsed = asyncio.run(main())
    finally:
        stop(procs)
    record(
        "load",
        f"mixed GETs, {seconds} s, 8 concurrent, 2 daphne processes",
        requests=len(latencies),
        errors=errors,
        requests_per_s=round(len(latencies) / elapsed, 1),
        **stats(latencies),
    )


PARTS = {
    "case_list": part_case_list,
    "case_detail": part_case_detail,
    "referral_inbox": part_referral_inbox,
    "places": part_places,
    "meeting": part_meeting,
    "audit": part_audit,
    "dashboard": part_dashboard,
    "access_log": part_access_log,
    "verify": part_verify,
    "import": part_import,
    "transitions": part_transitions,
    "fanout": part_fanout,
    "load": part_load,
}


# ---------------------------------------------------------------------------
# The table in BENCHMARKS.md
# ---------------------------------------------------------------------------


def machine() -> dict:
    from django.db import connection

    def sh(cmd):
        try:
            return subprocess.run(cmd, shell=True, capture_output=True, text=True, check=False).stdout.strip()  # noqa: S602
        except OSError:
            return ""

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    return {
        "nproc": sh("nproc"),
        "memory": sh("free -h | awk '/Mem:/ {print $2}'"),
        "cpu": sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip(),
        "postgresql": pg,
        "redis": sh(
            'redis-cli -u "${REDIS_URL:-redis://127.0.0.1:6379/0}" INFO server | grep redis_version | cut -d: -f2'
        ),
        "python": platform.python_version(),
        "load_average": sh("cat /proc/loadavg | cut -d' ' -f1-3"),
    }


def data_size() -> dict:
    from django.db import connection

    tables = {
        "organizations": "casework_organization",
        "staff": "auth_user",
        "households": "casework_household",
        "persons": "casework_person",
        "cases": "casework_case",
        "contact records": "casework_contactrecord",
        "referrals": "referrals_referral",
        "places": "places_place",
        "meetings": "meetings_meeting",
        "agenda items": "meetings_agendaitem",
        "access log": "casework_accesslog",
    }
    out = {}
    with connection.cursor() as cursor:
        for label, table in tables.items():
            cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 - fixed names
            out[label] = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM casework_case WHERE state NOT IN ('closed', 'suspended')")
        out["open cases"] = cursor.fetchone()[0]
    return out


def write_table() -> None:
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    lines = ["<!-- bench:table -->", ""]
    meta = data.get("_meta", {})
    if meta:
        lines.append(f"Measured {meta.get('date')} on {meta.get('machine')}.  ")
        lines.append(f"Data: {meta.get('data')}")
        lines.append("")
    lines.append("| part | figure | median ms | p95 ms | queries | raw SQL median ms | ratio | other |")
    lines.append("|---|---|---:|---:|---:|---:|---:|---|")
    skip = {"median_ms", "p95_ms", "queries", "raw_median_ms", "ratio_to_raw", "measured_at", "raw_p95_ms"}
    for part, figures in data.items():
        if part.startswith("_"):
            continue
        for name, v in figures.items():
            other = ", ".join(f"{k}={v[k]}" for k in v if k not in skip)
            lines.append(
                f"| {part} | {name} | {v.get('median_ms', '')} | {v.get('p95_ms', '')} | {v.get('queries', '')} "
                f"| {v.get('raw_median_ms', '')} | {v.get('ratio_to_raw', '')} | {other} |"
            )
    lines += ["", "<!-- /bench:table -->"]
    text = (
        BENCHMARKS.read_text()
        if BENCHMARKS.exists()
        else "# Benchmarks\n\n<!-- bench:table -->\n<!-- /bench:table -->\n"
    )
    head, _sep, rest = text.partition("<!-- bench:table -->")
    _old, _sep2, tail = rest.partition("<!-- /bench:table -->")
    BENCHMARKS.write_text(head + "\n".join(lines) + tail)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("parts", nargs="*", help=f"parts to run (default: all): {' '.join(PARTS)}")
    parser.add_argument("--runs", type=int, default=30, help="measured runs per figure after 3 warm-up runs")
    parser.add_argument("--load-seconds", type=int, default=60)
    parser.add_argument("--no-write", action="store_true", help="do not rewrite the table in BENCHMARKS.md")
    args = parser.parse_args()
    setup_django()
    from django.conf import settings

    assert not settings.DEBUG
    unknown = [p for p in args.parts if p not in PARTS]
    if unknown:
        raise SystemExit(f"unknown parts: {unknown}")
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    m = machine()
    data["_meta"] = {
        "date": datetime.now(tz=UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{m['nproc']} cores ({m['cpu']}), {m['memory']} RAM, PostgreSQL {m['postgresql']}, "
        f"Redis {m['redis']}, Python {m['python']}, load average at start {m['load_average']}",
        "data": ", ".join(f"{k} {v:,}" for k, v in data_size().items()),
    }
    RESULTS.write_text(json.dumps(data, ensure_ascii=False, indent=1))
    for part in args.parts or list(PARTS):
        print(f"== {part} (load average {Path('/proc/loadavg').read_text().split()[:3]})", flush=True)
        if part == "load":
            part_load(args.runs, seconds=args.load_seconds)
        else:
            PARTS[part](args.runs)
    if not args.no_write:
        write_table()


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    main()
