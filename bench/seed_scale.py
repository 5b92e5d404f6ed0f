"""Generate a city-scale data set on PostgreSQL with COPY: consistent, permission-granted, hash-chained.

A dev tool for the benchmarks, not product code: run it as `python -m bench.seed_scale --scale 0.02`
(see BENCHMARKS.md). It imports every app's models inside `seed()`, after Django is set up.
"""

from __future__ import annotations

import json
import math
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")

# Default sizes at --scale 1 (a city of about 400,000 people).
DEFAULTS = {
    "organizations": 80,
    "staff": 1_000,
    "households": 20_000,
    "persons": 30_000,
    "cases": 25_000,
    "open_cases": 5_000,
    "contacts": 300_000,
    "referrals": 40_000,
    "places": 500,
    "meetings": 2_000,
    "agenda_items": 10_000,
    "access_log": 5_000_000,
}
MINIMUMS = {
    "organizations": 8,
    "staff": 24,
    "households": 20,
    "persons": 30,
    "cases": 25,
    "open_cases": 5,
    "contacts": 100,
    "referrals": 40,
    "places": 8,
    "meetings": 4,
    "agenda_items": 12,
    "access_log": 2_000,
}
# About as many access-log rows a day as 1,000 staff write; sets how many days the chains span.
ACCESS_LOG_ROWS_PER_DAY = 40_000
BENCH_PASSWORD = "bench-pass-2026"

# (family name, kana) with the variant characters people really write: 髙/高, 邊/邉/辺, 﨑/崎, 𠮷/吉.
FAMILY_NAMES = [
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("高橋", "タカハシ"),
    ("髙橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"),
    ("渡邊", "ワタナベ"),
    ("渡邉", "ワタナベ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("吉田", "ヨシダ"),
    ("𠮷田", "ヨシダ"),
    ("山田", "ヤマダ"),
    ("佐々木", "ササキ"),
    ("山口", "ヤマグチ"),
    ("斎藤", "サイトウ"),
    ("齋藤", "サイトウ"),
    ("斉藤", "サイトウ"),
    ("松本", "マツモト"),
    ("井上", "イノウエ"),
    ("木村", "キムラ"),
    ("林", "ハヤシ"),
    ("清水", "シミズ"),
    ("山崎", "ヤマザキ"),
    ("山﨑", "ヤマザキ"),
    ("森", "モリ"),
    ("池田", "イケダ"),
    ("橋本", "ハシモト"),
    ("石川", "イシカワ"),
    ("長谷川", "ハセガワ"),
    ("近藤", "コンドウ"),
    ("坂本", "サカモト"),
    ("遠藤", "エンドウ"),
    ("青木", "アオキ"),
    ("藤田", "フジタ"),
]
GIVEN_NAMES = [
    ("太郎", "タロウ", "male"),
    ("一郎", "イチロウ", "male"),
    ("健一", "ケンイチ", "male"),
    ("誠", "マコト", "male"),
    ("浩", "ヒロシ", "male"),
    ("茂", "シゲル", "male"),
    ("隆", "タカシ", "male"),
    ("大輔", "ダイスケ", "male"),
    ("翔太", "ショウタ", "male"),
    ("蓮", "レン", "male"),
    ("悠真", "ユウマ", "male"),
    ("直樹", "ナオキ", "male"),
    ("花子", "ハナコ", "female"),
    ("和子", "カズコ", "female"),
    ("幸子", "サチコ", "female"),
    ("恵子", "ケイコ", "female"),
    ("由美子", "ユミコ", "female"),
    ("裕子", "ユウコ", "female"),
    ("明美", "アケミ", "female"),
    ("美咲", "ミサキ", "female"),
    ("陽菜", "ヒナ", "female"),
    ("結衣", "ユイ", "female"),
    ("さくら", "サクラ", "female"),
    ("翼", "ツバサ", "other"),
]
AREAS = ["中央", "東", "西", "南", "北", "緑ヶ丘", "桜台", "港", "川辺", "山手"]
STREETS = ["本町", "栄町", "旭町", "若葉", "梅ノ木", "新田", "大通", "松原"]
WINDOW_KINDS = [
    ("地域包括支援センター", ["elderly"]),
    ("障害者相談支援事業所", ["disability"]),
    ("子育て世代包括支援センター", ["child"]),
    ("生活困窮者自立相談支援機関", ["poverty"]),
]
PLACE_OPERATOR_KINDS = ["NPO法人", "社会福祉協議会", "地区社協", "子ども食堂の会", "サロン運営委員会"]
CONTACT_SUMMARIES = [
    "本人と面談。生活の様子を確認した。",
    "電話で近況を確認。次回訪問日を調整。",
    "自宅を訪問したが不在。不在票を投函。",
    "家族から相談あり。介護の負担について聞き取り。",
    "関係機関と同行訪問。手続きの説明を行った。",
    "本人が来所。家計の状況について相談。",
]


@dataclass
class Sizes:
    """How many rows of each kind to generate."""

    values: dict[str, int] = field(default_factory=dict)

    @classmethod
    def for_scale(cls, scale: float) -> Sizes:
        values = {k: max(MINIMUMS[k], round(v * scale)) for k, v in DEFAULTS.items()}
        values["persons"] = max(values["persons"], values["households"])
        values["open_cases"] = min(values["open_cases"], values["cases"])
        return cls(values)

    def __getitem__(self, key: str) -> int:
        return self.values[key]


class Ids:
    """Hand out explicit primary keys after the table's current maximum (so --force appends safely)."""

    def __init__(self, cursor):
        self.cursor = cursor
        self.next: dict[str, int] = {}

    def take(self, table: str, count: int) -> range:
        if table not in self.next:
            self.cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')  # noqa: S608 - table names are ours
            self.next[table] = self.cursor.fetchone()[0] + 1
        start = self.next[table]
        self.next[table] = start + count
        return range(start, start + count)

    def reset_sequences(self) -> None:
        for table in self.next:
            self.cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "  # noqa: S608
                f'(SELECT GREATEST(COALESCE(MAX(id), 0), 1) FROM "{table}"))'
            )


def copy_models(raw_cursor, model, objects) -> int:
    """COPY model instances into their table, applying field defaults and auto_now(_add) like save() would."""
    from django.db import connection
    from django.utils import timezone

    fields = model._meta.concrete_fields
    now = timezone.now()
    # auto_now(_add) fields keep a value the generator set (a case opened years ago), else get now.
    stamped = {f.attname for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)}
    columns = ", ".join(f'"{f.column}"' for f in fields)
    count = 0
    with raw_cursor.copy(f'COPY "{model._meta.db_table}" ({columns}) FROM STDIN') as copy:
        for obj in objects:
            row = []
            for f in fields:
                if f.attname in stamped:
                    value = getattr(obj, f.attname) or now
                else:
                    value = f.pre_save(obj, True)
                row.append(f.get_db_prep_save(value, connection))
            copy.write_row(row)
            count += 1
    return count


def _fiscal_days(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange(max(1, (end - start).days)))


def seed(
    *,
    scale: float = 1.0,
    seed_value: int = 2026,
    log=print,
    skip_access_log: bool = False,
    access_log_rows: int | None = None,
) -> dict[str, int]:
    """Generate the data set; return the row counts written per table."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group, Permission
    from django.db import connection, transaction

    from casework import audit
    from casework.assessment import CURRENT_VERSION
    from casework.choices import Domain, Role
    from casework.models import (
        AccessLog,
        Assessment,
        Case,
        CaseDomain,
        CaseGroupObjectPermission,
        CaseNumberSequence,
        CaseState,
        CaseSubject,
        CaseTeamMembership,
        CaseTransition,
        Consent,
        ConsentPurpose,
        ConsultationCategory,
        ContactRecord,
        Household,
        HouseholdMember,
        IntakeRoute,
        Membership,
        Organization,
        Person,
        PlanRole,
        SupportPlan,
    )
    from core.japanese import era_short_prefix, fiscal_year
    from meetings.models import (
        AgendaItem,
        AgendaPurpose,
        Meeting,
        MeetingGroupObjectPermission,
        MeetingKind,
        MeetingParticipant,
        MeetingStatus,
    )
    from places.choices import Accommodation, PlaceKind, TargetGroup
    from places.models import Place, PlaceSchedule
    from referrals.models import (
        LegalBasis,
        ParticipationStage,
        Referral,
        ReferralGroupObjectPermission,
        ReferralKind,
        ReferralState,
        ReferralTransition,
    )

    User = get_user_model()
    rng = random.Random(seed_value)
    sizes = Sizes.for_scale(scale)
    counts: dict[str, int] = {}
    now = datetime.now(tz=UTC).replace(microsecond=0)
    today = now.astimezone(JST).date()
    started = time.monotonic()

    def step(name: str, n: int) -> None:
        counts[name] = counts.get(name, 0) + n
        log(f"  {name}: {n:,} ({time.monotonic() - started:.1f} s)")

    def jst(day: date, hour: int, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
        return datetime.combine(day, dtime(hour, minute, second, micro), tzinfo=JST)

    perm = {
        (p.content_type.app_label, p.codename): p.id
        for p in Permission.objects.select_related("content_type").filter(
            codename__in=["view_case", "change_case", "view_referral", "view_meeting"]
        )
    }

    with transaction.atomic(), connection.cursor() as wrapper:
        raw = wrapper.cursor  # the psycopg cursor, for COPY
        ids = Ids(wrapper)

        # --- organizations and their groups --------------------------------------------------
        n_org = sizes["organizations"]
        n_coord = max(1, round(n_org * 0.025))
        n_places_ops = max(2, round(n_org * 0.4))
        n_windows = n_org - 1 - n_coord - n_places_ops
        orgs: list[Organization] = []
        suffix = rng.randrange(10**6)
        specs = [(Organization.Kind.MUNICIPAL, "みどり市 福祉部 地域福祉課", [])]
        specs += [(Organization.Kind.COORDINATOR, f"みどり市 多機関協働センター{i + 1}", []) for i in range(n_coord)]
        for i in range(n_windows):
            label, domains = WINDOW_KINDS[i % len(WINDOW_KINDS)]
            specs.append((Organization.Kind.WINDOW, f"{AREAS[i % len(AREAS)]}{label}{i + 1}", domains))
        for i in range(n_places_ops):
            specs.append(
                (Organization.Kind.PLACE_OPERATOR, f"{PLACE_OPERATOR_KINDS[i % 5]} {AREAS[i % len(AREAS)]}{i + 1}", [])
            )
        group_ids = ids.take("auth_group", len(specs))
        org_ids = ids.take(Organization._meta.db_table, len(specs))
        groups = []
        for (kind, name, domains), gid, oid in zip(specs, group_ids, org_ids, strict=True):
            name = f"{name}（{suffix}）" if Organization.objects.filter(name=name).exists() else name
            groups.append(Group(id=gid, name=f"org:{name}"))
            orgs.append(Organization(id=oid, name=name, kind=kind, domains=domains, group_id=gid, phone="0000-00-0000"))
        copy_models(raw, Group, groups)
        step("organizations", copy_models(raw, Organization, orgs))
        municipal = orgs[0]
        coordinators = orgs[1 : 1 + n_coord]
        windows = orgs[1 + n_coord : 1 + n_coord + n_windows]
        operators = orgs[1 + n_coord + n_windows :]
        case_orgs = [municipal, *coordinators, *windows]

        # --- staff ----------------------------------------------------------------------------
        n_staff = sizes["staff"]
        roles: list[tuple[Organization, str]] = [(municipal, Role.AUDITOR), (municipal, Role.ADMINISTRATOR)]
        roles += [(o, Role.SUPERVISOR) for o in case_orgs]
        roles += [(o, Role.PLACE_STAFF) for o in operators]
        roles += [(o, Role.CASEWORKER) for o in case_orgs]
        while len(roles) < n_staff:
            if rng.random() < 0.19:
                roles.append((rng.choice(operators), Role.PLACE_STAFF))
            else:
                roles.append((rng.choice(case_orgs), Role.CASEWORKER))
        password = make_password(BENCH_PASSWORD)
        user_ids = ids.take(User._meta.db_table, len(roles))
        users, memberships, user_groups = [], [], []
        workers_by_org: dict[int, list[int]] = {}
        staff_by_org: dict[int, list[tuple[int, str, str]]] = {}
        membership_ids = ids.take(Membership._meta.db_table, len(roles))
        ug_ids = ids.take(User.groups.through._meta.db_table, len(roles))
        for (org, role), uid, mid, ugid in zip(roles, user_ids, membership_ids, ug_ids, strict=True):
            family, family_kana = rng.choice(FAMILY_NAMES)
            given = rng.choice(GIVEN_NAMES)
            username = f"bench{uid}"
            users.append(
                User(
                    id=uid,
                    username=username,
                    password=password,
                    last_name=family,
                    first_name=given[0],
                    email=f"{username}@example.jp",
                    is_active=True,
                    is_staff=role == Role.ADMINISTRATOR,
                )
            )
            memberships.append(Membership(id=mid, user_id=uid, organization_id=org.id, role=role, title=""))
            user_groups.append(User.groups.through(id=ugid, user_id=uid, group_id=org.group_id))
            if role in (Role.CASEWORKER, Role.SUPERVISOR):
                workers_by_org.setdefault(org.id, []).append(uid)
            staff_by_org.setdefault(org.id, []).append((uid, username, role))
        copy_models(raw, User, users)
        copy_models(raw, Membership, memberships)
        copy_models(raw, User.groups.through, user_groups)
        step("staff", len(users))
        usernames = {u.id: u.username for u in users}
        role_of = {m.user_id: (m.organization_id, m.role) for m in memberships}

        # --- persons and households -----------------------------------------------------------
        n_house, n_person = sizes["households"], sizes["persons"]
        person_ids = ids.take(Person._meta.db_table, n_person)
        house_ids = ids.take(Household._meta.db_table, n_house)
        persons = []
        for pid in person_ids:
            family, family_kana = rng.choice(FAMILY_NAMES)
            given, given_kana, gender = rng.choice(GIVEN_NAMES)
            p = Person(
                id=pid,
                family_name=family,
                given_name=given,
                family_name_kana=family_kana,
                given_name_kana=given_kana,
                birth_date=date(1930, 1, 1) + timedelta(days=rng.randrange(365 * 90)),
                gender=gender,
                postal_code=f"{rng.randrange(100, 999)}-{rng.randrange(1000, 9999)}",
                prefecture="〇〇県",
                city="みどり市",
                street=f"{rng.choice(STREETS)}{rng.randrange(1, 9)}-{rng.randrange(1, 30)}",
                phone=f"0000-{rng.randrange(10, 99)}-{rng.randrange(1000, 9999)}",
                address_secret=rng.random() < 0.01,
            )
            p.search_key = p.compute_search_key()
            persons.append(p)
        step("persons", copy_models(raw, Person, persons))
        tag_values = Household.Tag.values
        households = [
            Household(
                id=hid,
                name=f"{persons[i].family_name}世帯",
                tags=rng.sample(tag_values, k=rng.choice([0, 1, 1, 2, 3])),
            )
            for i, hid in enumerate(house_ids)
        ]
        step("households", copy_models(raw, Household, households))
        members_of: dict[int, list[int]] = {hid: [person_ids[i]] for i, hid in enumerate(house_ids)}
        hm_rows = [
            HouseholdMember(household_id=hid, person_id=person_ids[i], relationship="self", is_key_person=True)
            for i, hid in enumerate(house_ids)
        ]
        extra_rel = ["spouse", "parent", "child", "sibling", "grandchild", "other_relative"]
        for pid in person_ids[n_house:]:
            hid = rng.choice(house_ids)
            members_of[hid].append(pid)
            hm_rows.append(HouseholdMember(household_id=hid, person_id=pid, relationship=rng.choice(extra_rel)))
        for hm, hmid in zip(hm_rows, ids.take(HouseholdMember._meta.db_table, len(hm_rows)), strict=True):
            hm.id = hmid
        step("household members", copy_models(raw, HouseholdMember, hm_rows))
        person_name = {p.id: p.full_name for p in persons}
        person_birth = {p.id: p.birth_date for p in persons}

        # --- cases ----------------------------------------------------------------------------
        n_case, n_open = sizes["cases"], sizes["open_cases"]
        case_ids = ids.take(Case._meta.db_table, n_case)
        open_states = [CaseState.INTAKE, CaseState.ASSESSMENT, CaseState.PLANNING, CaseState.IN_SUPPORT]
        path = [CaseState.INTAKE, CaseState.ASSESSMENT, CaseState.PLANNING, CaseState.IN_SUPPORT, CaseState.CLOSED]
        domains = Domain.values
        categories = ConsultationCategory.values
        cases, subjects, case_domains, teams, transitions = [], [], [], [], []
        consents, plans, plan_roles, assessments = [], [], [], []
        grants: list[tuple[int, int]] = []  # (case id, group id)
        case_info: dict[int, dict] = {}
        # Continue each 年度's numbering (with --force, after what is already there).
        numbers: dict[int, int] = dict(CaseNumberSequence.objects.values_list("fiscal_year", "last"))
        org_by_id = {o.id: o for o in orgs}
        # Earlier (closed) cases come first so case numbers rise with the opening date within each 年度.
        open_flags = sorted([False] * (n_case - n_open) + [True] * n_open)
        opened_days = []
        for is_open in open_flags:
            back = rng.randrange(2, 700) if is_open else rng.randrange(60, 365 * 6)
            opened_days.append(today - timedelta(days=back))
        order = sorted(range(n_case), key=lambda i: opened_days[i])
        consent_ids = iter(ids.take(Consent._meta.db_table, n_case * 2))
        plan_ids = iter(ids.take(SupportPlan._meta.db_table, n_case))
        for idx in order:
            cid = case_ids[idx]
            is_open, opened_on = open_flags[idx], opened_days[idx]
            fy = fiscal_year(opened_on)
            numbers[fy] = numbers.get(fy, 0) + 1
            lead = rng.choice(windows if rng.random() < 0.85 else case_orgs)
            worker = rng.choice(workers_by_org[lead.id])
            hid = rng.choice(house_ids)
            subj = [members_of[hid][0]]
            if len(members_of[hid]) > 1 and rng.random() < 0.3:
                subj.append(members_of[hid][1])
            if is_open:
                state = rng.choices(open_states, weights=[10, 15, 15, 60])[0]
            else:
                state = rng.choices([CaseState.CLOSED, CaseState.SUSPENDED], weights=[80, 20])[0]
            if state == CaseState.SUSPENDED:
                reached = path[: rng.randrange(1, 5)] + [CaseState.SUSPENDED]
            else:
                reached = path[: path.index(state) + 1]
            span = max(1, (today - opened_on).days)
            steps_days = sorted(opened_on + timedelta(days=rng.randrange(span)) for _ in reached[1:])
            closed_on = steps_days[-1] if state in (CaseState.CLOSED, CaseState.SUSPENDED) else None
            main = rng.choice(categories)
            cats = list(dict.fromkeys([main, *rng.sample(categories, k=rng.randrange(0, 3))]))
            has_plan = CaseState.PLANNING in reached
            review = today + timedelta(days=rng.randrange(-20, 120)) if state == CaseState.IN_SUPPORT else None
            cases.append(
                Case(
                    id=cid,
                    number=f"{era_short_prefix(fy)}-{numbers[fy]:06d}",
                    household_id=hid,
                    categories=cats,
                    main_category=main,
                    intake_route=rng.choice(IntakeRoute.values),
                    lead_organization_id=lead.id,
                    lead_worker_id=worker,
                    summary="世帯全体の生活の立て直しについて相談。",
                    opened_on=opened_on,
                    closed_on=closed_on,
                    state=state,
                    version=len(reached),
                    next_review_on=review,
                    created_by_id=worker,
                    created_at=jst(opened_on, 10),
                )
            )
            for pid in subj:
                subjects.append(CaseSubject(case_id=cid, person_id=pid))
            for d in rng.sample(domains, k=rng.choice([1, 1, 2, 2, 3])):
                case_domains.append(CaseDomain(case_id=cid, domain=d))
            team = [lead]
            teams.append(
                CaseTeamMembership(case_id=cid, organization_id=lead.id, role_note="主担当", added_by_id=worker)
            )
            teams[-1].added_at = jst(opened_on, 10)
            if rng.random() < 0.3:
                other = rng.choice(case_orgs)
                if other.id != lead.id:
                    team.append(other)
                    t = CaseTeamMembership(case_id=cid, organization_id=other.id, added_by_id=worker)
                    t.added_at = jst(opened_on, 11)
                    teams.append(t)
            for org in team:
                grants.append((cid, org.group_id))
            prev = reached[0]
            for to_state, on in zip(reached[1:], steps_days, strict=True):
                tr = CaseTransition(case_id=cid, from_state=prev, to_state=to_state, by_id=worker, at=jst(on, 15))
                if to_state in (CaseState.CLOSED, CaseState.SUSPENDED):
                    tr.reason = "目標を達成したため。" if to_state == CaseState.CLOSED else "本人の希望により中断。"
                transitions.append(tr)
                prev = to_state
            subject_consents = []
            for pid in subj:
                consent = Consent(
                    id=next(consent_ids),
                    person_id=pid,
                    case_id=cid,
                    given_on=opened_on,
                    method=Consent.Method.WRITTEN,
                    explained_by_id=worker,
                    document_version="R6版",
                    scope_kind=Consent.ScopeKind.CASE_TEAM,
                    purposes=ConsentPurpose.values,
                    recorded_by_id=worker,
                )
                consents.append(consent)
                subject_consents.append(consent.id)
            if CaseState.ASSESSMENT in reached:
                assessments.append(
                    Assessment(
                        case_id=cid,
                        schema_version=CURRENT_VERSION,
                        checklist={},
                        narrative="生活状況と世帯の課題を整理した。",
                        assessed_on=steps_days[0],
                        by_id=worker,
                    )
                )
            if has_plan:
                approved = CaseState.IN_SUPPORT in reached
                plan = SupportPlan(
                    id=next(plan_ids),
                    case_id=cid,
                    version=1,
                    goals="安定した生活を送り、地域とのつながりを取り戻す。",
                    status=SupportPlan.Status.APPROVED if approved else SupportPlan.Status.DRAFT,
                    period_start=opened_on,
                    next_review_on=review,
                    approved_on=steps_days[min(2, len(steps_days) - 1)] if approved else None,
                    approved_by_label="重層的支援会議" if approved else "",
                    created_by_id=worker,
                )
                plans.append(plan)
                for org in team:
                    plan_roles.append(PlanRole(plan_id=plan.id, organization_id=org.id, role="見守りと相談"))
            case_info[cid] = {
                "lead": lead,
                "worker": worker,
                "subjects": subj,
                "consents": subject_consents,
                "team": team,
                "open": is_open,
                "opened_on": opened_on,
                "household": hid,
            }
        step("cases", copy_models(raw, Case, cases))
        for model, rows in [
            (CaseSubject, subjects),
            (CaseDomain, case_domains),
            (CaseTeamMembership, teams),
            (CaseTransition, transitions),
            (Consent, consents),
            (Assessment, assessments),
            (SupportPlan, plans),
            (PlanRole, plan_roles),
        ]:
            if model not in (Consent, SupportPlan):
                for obj, oid in zip(rows, ids.take(model._meta.db_table, len(rows)), strict=True):
                    obj.id = oid
            step(model._meta.db_table, copy_models(raw, model, rows))
        for fy, last in numbers.items():
            CaseNumberSequence.objects.update_or_create(fiscal_year=fy, defaults={"last": last})

        def grant_rows(model, pairs, codenames):
            out = []
            for obj_id, gid in pairs:
                for codename in codenames:
                    out.append(model(group_id=gid, permission_id=perm[codename], content_object_id=obj_id))
            for obj, oid in zip(out, ids.take(model._meta.db_table, len(out)), strict=True):
                obj.id = oid
            return out

        # --- contact records ------------------------------------------------------------------
        n_contacts = sizes["contacts"]
        open_ids = [c for c in case_ids if case_info[c]["open"]]

        contact_ids = ids.take(ContactRecord._meta.db_table, n_contacts)  # before COPY starts on the connection

        def contacts():
            for cid in contact_ids:
                # Open cases are where the work happens: they get most of the records.
                case_id = rng.choice(open_ids) if rng.random() < 0.6 else rng.choice(case_ids)
                info = case_info[case_id]
                span = max(1, (today - info["opened_on"]).days)
                day = info["opened_on"] + timedelta(days=rng.randrange(span))
                kind = rng.choice(ContactRecord.Kind.values)
                yield ContactRecord(
                    id=cid,
                    case_id=case_id,
                    person_id=info["subjects"][0],
                    occurred_at=jst(day, rng.randrange(8, 19), rng.randrange(60)),
                    kind=kind,
                    is_outreach=kind in ("visit", "absent"),
                    summary=rng.choice(CONTACT_SUMMARIES),
                    sensitive=rng.random() < 0.05,
                    recorded_by_id=info["worker"],
                    organization_id=info["lead"].id,
                    created_at=jst(day, 19),
                )

        step("contact records", copy_models(raw, ContactRecord, contacts()))

        # --- places ---------------------------------------------------------------------------
        n_places = sizes["places"]
        places, schedules = [], []
        places_by_operator: dict[int, list[int]] = {}
        for i, plid in enumerate(ids.take(Place._meta.db_table, n_places)):
            operator = operators[i % len(operators)]
            kind = rng.choice(PlaceKind.values)
            area = rng.choice(AREAS)
            place = Place(
                id=plid,
                external_id=f"BENCH-{plid}",
                operator_id=operator.id,
                name=f"{area}の{PlaceKind(kind).label}{plid}",
                kind=kind,
                description="地域のだれもが気軽に立ち寄れる場所です。",
                postal_code=f"{rng.randrange(100, 999)}-{rng.randrange(1000, 9999)}",
                address=f"みどり市{area}{rng.choice(STREETS)}{rng.randrange(1, 9)}-{rng.randrange(1, 30)}",
                area=area,
                capacity=rng.choice([None, 10, 15, 20, 30]),
                target_groups=rng.sample(TargetGroup.values, k=rng.randrange(1, 3)),
                activities=rng.sample(["お茶", "体操", "料理", "学習", "手芸", "農作業", "ゲーム", "歌"], k=2),
                accommodations=rng.sample(Accommodation.values, k=rng.randrange(0, 3)),
                cost=rng.choice(["無料", "100円", "300円"]),
                accepts_referrals=rng.random() < 0.7,
                pledge_signed_on=today - timedelta(days=rng.randrange(30, 900)),
                contact_name=rng.choice(FAMILY_NAMES)[0],
                contact_phone="0000-11-2222",
            )
            place.search_text = place.build_search_text()
            places.append(place)
            places_by_operator.setdefault(operator.id, []).append(plid)
            for _n in range(rng.choice([1, 1, 2])):
                start = rng.choice([9, 10, 13, 15])
                schedules.append(
                    PlaceSchedule(
                        place_id=plid,
                        weekday=rng.randrange(7),
                        weeks_of_month=rng.choice([[], [], [2, 4], [1, 3]]),
                        start_time=dtime(start),
                        end_time=dtime(start + 2),
                    )
                )
        step("places", copy_models(raw, Place, places))
        for obj, oid in zip(schedules, ids.take(PlaceSchedule._meta.db_table, len(schedules)), strict=True):
            obj.id = oid
        step("place schedules", copy_models(raw, PlaceSchedule, schedules))
        operators_with_places = [o for o in operators if places_by_operator.get(o.id)]

        # --- referrals ------------------------------------------------------------------------
        n_ref = sizes["referrals"]
        states = ReferralState.values
        weights = {
            "draft": 5,
            "requested": 15,
            "accepted": 10,
            "rejected": 5,
            "returned": 3,
            "cancelled": 3,
            "in_progress": 25,
            "on_hold": 4,
            "completed": 25,
            "failed": 5,
        }
        referrals, ref_transitions, ref_grants, extra_team = [], [], [], []
        for rid in ids.take(Referral._meta.db_table, n_ref):
            roll = rng.random()
            kind = (
                ReferralKind.INTER_AGENCY
                if roll < 0.55
                else ReferralKind.PARTICIPATION
                if roll < 0.9
                else ReferralKind.TSUNAGI
            )
            state = rng.choices(states, weights=[weights[s] for s in states])[0]
            case_id = rng.choice(case_ids)
            info = case_info[case_id]
            created = jst(
                info["opened_on"] + timedelta(days=rng.randrange(max(1, (today - info["opened_on"]).days))), 11
            )
            place_id = None
            consent_id = None
            if kind == ReferralKind.TSUNAGI:
                sender = rng.choice(operators)
                receiver = rng.choice(windows)
                sender_user = staff_by_org[sender.id][0][0]
                pid, case_ref = None, None
                legal = LegalBasis.PERSON_AGREED
                card_name = ""
            else:
                sender = info["lead"]
                sender_user = info["worker"]
                pid, case_ref = info["subjects"][0], case_id
                consent_id = info["consents"][0]
                legal = LegalBasis.CONSENT
                card_name = person_name[pid]
                if kind == ReferralKind.PARTICIPATION:
                    receiver = rng.choice(operators_with_places)
                    place_id = rng.choice(places_by_operator[receiver.id])
                else:
                    receiver = rng.choice([o for o in case_orgs if o.id != sender.id])
            sent = state != ReferralState.DRAFT
            responded = state not in (ReferralState.DRAFT, ReferralState.REQUESTED, ReferralState.CANCELLED)
            ended = state in (
                ReferralState.REJECTED,
                ReferralState.CANCELLED,
                ReferralState.COMPLETED,
                ReferralState.FAILED,
            )
            birth = person_birth.get(pid)
            referrals.append(
                Referral(
                    id=rid,
                    kind=kind,
                    state=state,
                    case_id=case_ref,
                    person_id=pid,
                    sender_organization_id=sender.id,
                    sender_user_id=sender_user,
                    receiver_organization_id=receiver.id,
                    place_id=place_id,
                    request_text="本人の希望に沿った支援をお願いします。",
                    due_on=(created + timedelta(days=14)).date() if sent else None,
                    consent_id=consent_id if sent else None,
                    legal_basis=legal if sent else "",
                    card_name=card_name,
                    card_preferred_name=card_name.split("\u3000")[-1] if card_name else "",
                    card_age_band=f"{(today.year - birth.year) // 10 * 10}代" if birth else "",
                    card_wishes="人と話せる場所に行きたい。",
                    card_schedule="平日の午前",
                    card_contact="0000-00-0000",
                    outcome="定期的に参加するようになった。" if state == ReferralState.COMPLETED else "",
                    stage=ParticipationStage.REGULAR
                    if kind == ReferralKind.PARTICIPATION and state == ReferralState.IN_PROGRESS
                    else "",
                    sent_at=created + timedelta(hours=1) if sent else None,
                    responded_at=created + timedelta(days=3) if responded else None,
                    ended_at=created + timedelta(days=60) if ended else None,
                    place_access_until=created + timedelta(days=150)
                    if ended and kind == ReferralKind.PARTICIPATION
                    else None,
                    team_added=kind == ReferralKind.INTER_AGENCY and responded and state != ReferralState.REJECTED,
                    created_at=created,
                )
            )
            referrals[-1].updated_at = created
            ref_grants.append((rid, sender.group_id))
            if sent:
                ref_grants.append((rid, receiver.group_id))
                ref_transitions.append(
                    ReferralTransition(
                        referral_id=rid,
                        from_state=ReferralState.DRAFT,
                        to_state=ReferralState.REQUESTED,
                        by_id=sender_user,
                        organization_id=sender.id,
                        at=created + timedelta(hours=1),
                    )
                )
                if state != ReferralState.REQUESTED:
                    receiver_users = staff_by_org.get(receiver.id) or [(sender_user, "", "")]
                    ref_transitions.append(
                        ReferralTransition(
                            referral_id=rid,
                            from_state=ReferralState.REQUESTED,
                            to_state=state,
                            by_id=receiver_users[0][0],
                            organization_id=receiver.id,
                            at=created + timedelta(days=3),
                            reason="" if state not in ("rejected", "returned", "cancelled") else "体制が整わないため。",
                        )
                    )
            if referrals[-1].team_added and receiver.id not in {o.id for o in info["team"]}:
                info["team"].append(receiver)
                t = CaseTeamMembership(case_id=case_id, organization_id=receiver.id, added_by_id=sender_user)
                t.added_at = created + timedelta(days=3)
                extra_team.append(t)
                grants.append((case_id, receiver.group_id))
        step("referrals", copy_models(raw, Referral, referrals))
        for obj, oid in zip(
            ref_transitions, ids.take(ReferralTransition._meta.db_table, len(ref_transitions)), strict=True
        ):
            obj.id = oid
        step("referral transitions", copy_models(raw, ReferralTransition, ref_transitions))
        for obj, oid in zip(extra_team, ids.take(CaseTeamMembership._meta.db_table, len(extra_team)), strict=True):
            obj.id = oid
        step("case team (from referrals)", copy_models(raw, CaseTeamMembership, extra_team))
        step(
            "referral grants",
            copy_models(
                raw,
                ReferralGroupObjectPermission,
                grant_rows(ReferralGroupObjectPermission, ref_grants, [("referrals", "view_referral")]),
            ),
        )
        step(
            "case grants",
            copy_models(
                raw,
                CaseGroupObjectPermission,
                grant_rows(CaseGroupObjectPermission, grants, [("casework", "view_case"), ("casework", "change_case")]),
            ),
        )

        # --- meetings -------------------------------------------------------------------------
        n_meet, n_items = sizes["meetings"], sizes["agenda_items"]
        per_meeting = max(1, n_items // n_meet)
        conveners = [municipal, *coordinators]
        meetings, items, participants, meet_grants = [], [], [], []
        item_ids = iter(ids.take(AgendaItem._meta.db_table, n_meet * per_meeting))
        for mid in ids.take(Meeting._meta.db_table, n_meet):
            convener = rng.choice(conveners)
            chair = rng.choice(workers_by_org[convener.id])
            offset = rng.randrange(-365 * 3, 60)
            starts = jst(today + timedelta(days=offset), rng.choice([10, 13, 15]))
            kind = rng.choice(MeetingKind.values)
            if offset > 0:
                status = MeetingStatus.SCHEDULED
            elif offset > -14:
                status = MeetingStatus.CONCLUDED
            else:
                status = MeetingStatus.MINUTES_LOCKED
            meetings.append(
                Meeting(
                    id=mid,
                    kind=kind,
                    title=f"{'支援会議' if kind == MeetingKind.SUPPORT_MEETING else '重層的支援会議'} 第{mid}回",
                    starts_at=starts,
                    place="市役所 会議室A",
                    convened_by_id=convener.id,
                    chair_id=chair,
                    status=status,
                    minutes_approved_at=starts + timedelta(days=7) if status == MeetingStatus.MINUTES_LOCKED else None,
                    minutes_approved_by_id=chair if status == MeetingStatus.MINUTES_LOCKED else None,
                    created_by_id=chair,
                )
            )
            people = {chair: convener.id}
            for order, cid in enumerate(rng.sample(case_ids, k=per_meeting), start=1):
                info = case_info[cid]
                items.append(
                    AgendaItem(
                        id=next(item_ids),
                        meeting_id=mid,
                        case_id=cid,
                        purpose=rng.choice(AgendaPurpose.values),
                        order=order,
                        summary="世帯の状況と支援の方向性を確認する。",
                        notes="各機関の役割分担を確認した。" if status != MeetingStatus.SCHEDULED else "",
                        consent_ids=info["consents"][:1],
                        added_by_id=chair,
                    )
                )
                people.setdefault(info["worker"], info["lead"].id)
            for uid, org_id in people.items():
                participants.append(
                    MeetingParticipant(
                        meeting_id=mid,
                        user_id=uid,
                        organization_id=org_id,
                        pledge_signed_on=starts.date() - timedelta(days=1),
                        pledge_recorded_by_id=chair,
                        added_at=starts - timedelta(days=10),
                        added_by_id=chair,
                    )
                )
            for org_id in set(people.values()):
                meet_grants.append((mid, org_by_id[org_id].group_id))
        step("meetings", copy_models(raw, Meeting, meetings))
        step("agenda items", copy_models(raw, AgendaItem, items))
        for obj, oid in zip(participants, ids.take(MeetingParticipant._meta.db_table, len(participants)), strict=True):
            obj.id = oid
        step("meeting participants", copy_models(raw, MeetingParticipant, participants))
        step(
            "meeting grants",
            copy_models(
                raw,
                MeetingGroupObjectPermission,
                grant_rows(MeetingGroupObjectPermission, meet_grants, [("meetings", "view_meeting")]),
            ),
        )

        # --- access log: valid hash chains per day, computed with casework.audit.row_hash ------
        if not skip_access_log:
            n_log = access_log_rows if access_log_rows is not None else sizes["access_log"]
            days = max(2, math.ceil(n_log / ACCESS_LOG_ROWS_PER_DAY))
            first_day = today - timedelta(days=days)
            case_staff = [u for u in users if role_of[u.id][1] in (Role.CASEWORKER, Role.SUPERVISOR)]
            place_staff = [u for u in users if role_of[u.id][1] == Role.PLACE_STAFF] or case_staff
            auditors = [u for u in users if role_of[u.id][1] == Role.AUDITOR]
            ref_by_id = {r.id: r for r in referrals}
            referral_ids = list(ref_by_id)
            meeting_ids = [m.id for m in meetings]
            cases_of_org: dict[int, list[int]] = {}
            for cid, info in case_info.items():
                for org in info["team"]:
                    cases_of_org.setdefault(org.id, []).append(cid)
            log_ids = iter(ids.take(AccessLog._meta.db_table, n_log))
            columns = ["id", "stream", "prev_hash", "hash", *audit.HASHED_FIELDS]
            column_sql = ", ".join(f'"{c}"' for c in columns)
            written = 0
            per_day = [n_log // days + (1 if d < n_log % days else 0) for d in range(days)]
            for d, n_day in enumerate(per_day):
                day = first_day + timedelta(days=d)
                head = AccessLog.objects.filter(day=day, stream=0).order_by("-seq").values("seq", "hash").first()
                seq, prev = (head["seq"], head["hash"]) if head else (0, audit.GENESIS)
                # Office hours with a long tail; sorted so seq follows time.
                seconds = sorted(
                    min(86399, max(0, int(rng.gauss(13.5 * 3600, 3 * 3600)))) * 1_000_000 + rng.randrange(1_000_000)
                    for _ in range(n_day)
                )
                with raw.copy(f'COPY "{AccessLog._meta.db_table}" ({column_sql}) FROM STDIN') as copy:
                    for micros in seconds:
                        seq += 1
                        secs, us = divmod(micros, 1_000_000)
                        row = SimpleNamespace()
                        row.day = day
                        row.stream = 0  # the generator writes each day as one chain, stream 0
                        row.seq = seq
                        row.at = jst(day, secs // 3600, secs // 60 % 60, secs % 60, us)
                        row.request_id = ""
                        row.reason = ""
                        row.basis_ref = ""
                        row.outcome = AccessLog.Outcome.ALLOWED
                        row.ip = f"10.{rng.randrange(1, 20)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
                        row.auth_strength = AccessLog.AuthStrength.PASSWORD
                        pick = rng.random()
                        if pick < 0.75:
                            user = rng.choice(case_staff)
                            org_id, role = role_of[user.id]
                            own = cases_of_org.get(org_id) or case_ids
                            action = rng.choices(
                                ["view", "list", "search", "change", "create", "transition", "export", "denied"],
                                weights=[55, 18, 8, 9, 5, 3, 1, 1],
                            )[0]
                            if action in ("list", "search"):
                                shown = rng.sample(own, k=min(len(own), 25))
                                row.object_type, row.object_id = "case", ""
                                row.person_ids = sorted({p for c in shown for p in case_info[c]["subjects"]})
                                if action == "search":
                                    row.reason = f"q={rng.choice(FAMILY_NAMES)[1]}"
                            elif action == "denied":
                                row.object_type, row.object_id = "case", str(rng.choice(case_ids))
                                row.person_ids = []
                                row.outcome = AccessLog.Outcome.DENIED
                            else:
                                cid = rng.choice(own)
                                row.object_type, row.object_id = "case", str(cid)
                                row.person_ids = sorted(members_of[case_info[cid]["household"]])
                            row.basis = (
                                AccessLog.Basis.NONE
                                if action == "denied"
                                else AccessLog.Basis.OWN_ORGANIZATION
                                if role == Role.CASEWORKER
                                else AccessLog.Basis.SUPERVISION
                            )
                            row.path = f"/cases/{row.object_id}/" if row.object_id else "/cases/"
                        elif pick < 0.93:
                            rid = rng.choice(referral_ids)
                            ref = ref_by_id[rid]
                            user = rng.choice(place_staff if rng.random() < 0.3 else case_staff)
                            org_id, role = role_of[user.id]
                            action = "view"
                            row.object_type, row.object_id = "referral", str(rid)
                            row.person_ids = [ref.person_id] if ref.person_id else []
                            row.basis = AccessLog.Basis.CONSENT
                            row.basis_ref = str(ref.consent_id or "")
                            row.path = f"/referrals/{rid}/"
                        elif pick < 0.99:
                            mid = rng.choice(meeting_ids)
                            user = rng.choice(case_staff)
                            org_id, role = role_of[user.id]
                            action = rng.choice(["view", "meeting_subscribe"])
                            row.object_type, row.object_id = "meeting", str(mid)
                            row.person_ids = []
                            row.basis = AccessLog.Basis.SUPPORT_MEETING
                            row.path = f"/meetings/{mid}/"
                        else:
                            user = rng.choice(auditors)
                            org_id, role = role_of[user.id]
                            action = "search"
                            row.object_type, row.object_id = "accesslog", ""
                            row.person_ids = []
                            row.basis = AccessLog.Basis.AUDIT
                            row.auth_strength = AccessLog.AuthStrength.SECOND_FACTOR
                            row.path = "/audit/"
                        row.action = action
                        row.actor_id = user.id
                        row.actor_username = usernames[user.id]
                        row.organization_id = org_id
                        row.role = role
                        digest = audit.row_hash(prev, row)
                        copy.write_row(
                            [
                                next(log_ids),
                                row.stream,
                                prev,
                                digest,
                                *(
                                    json.dumps(row.person_ids) if name == "person_ids" else getattr(row, name)
                                    for name in audit.HASHED_FIELDS
                                ),
                            ]
                        )
                        prev = digest
                written += n_day
                if d % 10 == 0 or d == days - 1:
                    log(f"    access log: {written:,}/{n_log:,} rows, {d + 1}/{days} days")
            step("access log", written)
        ids.reset_sequences()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    log(f"done in {time.monotonic() - started:.1f} s")
    return counts


class SeedRefused(Exception):
    """The target database is not one the generator may fill."""


def seed_checked(
    *, scale: float = 1.0, seed_value: int = 2026, force: bool = False, log=print, **options
) -> dict[str, int]:
    """Refuse anything but an empty PostgreSQL database (unless forced), then generate and return the counts."""
    from django.db import connection

    from casework.models import AccessLog, Case

    if connection.vendor != "postgresql":
        raise SeedRefused("seed_scale は PostgreSQL 専用です。DATABASE_URL に PostgreSQL を指定してください。")
    if not 0 < scale <= 100:
        raise SeedRefused("--scale は 0 より大きく 100 以下にしてください。")
    if not force and (Case.objects.exists() or AccessLog.objects.exists()):
        raise SeedRefused("データベースが空ではありません。追加するには --force を付けてください。")
    return seed(scale=scale, seed_value=seed_value, log=log, **options)


def main(argv: list[str] | None = None) -> None:
    """`python -m bench.seed_scale [--scale 0.02]`: fill DATABASE_URL with a city-scale data set."""
    import argparse
    import os
    import sys

    import django

    parser = argparse.ArgumentParser(
        description="ベンチマーク用に市の規模のデータ（機関80・職員1,000・ケース25,000・アクセス記録500万件など）を"
        "PostgreSQL に COPY で作成します。"
    )
    parser.add_argument("--scale", type=float, default=1.0, help="既定の件数に掛ける倍率（例: 0.02、10）")
    parser.add_argument("--seed", type=int, default=2026, help="乱数の種（同じ種なら同じ内容）")
    parser.add_argument("--force", action="store_true", help="データがあるデータベースにも追加する")
    parser.add_argument("--skip-access-log", action="store_true", help="アクセス記録を作らない")
    parser.add_argument("--access-log-rows", type=int, help="アクセス記録の件数（既定は 500万 × scale）")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    print(f"scale {args.scale} で生成します…")
    try:
        counts = seed_checked(
            scale=args.scale,
            seed_value=args.seed,
            force=args.force,
            skip_access_log=args.skip_access_log,
            access_log_rows=args.access_log_rows,
        )
    except SeedRefused as exc:
        sys.exit(str(exc))
    print("完了: " + "、".join(f"{k} {v:,}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
