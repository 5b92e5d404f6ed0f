"""Reads for the casework kernel: memberships, what a user may do, and the case screens' figures."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from casework import audit
from casework.access import case_list_person_ids, cases_for_user
from casework.audit.selectors import audit_home_panels
from casework.choices import Role
from casework.models import (
    AccessLog,
    BreakGlassAccess,
    Case,
    CaseDomain,
    CaseState,
    CaseSubject,
    Consent,
    ContactRecord,
    Household,
    HouseholdMember,
    Membership,
    MembershipGrant,
    Organization,
    Person,
    PersonMatch,
    SupportPlan,
    membership_active_q,
)
from casework.viewers import Viewer
from core.japanese import fold_case_number, format_wareki, normalize_case_number, search_key
from core.panels import Panel

REVIEW_DUE_DAYS = 14
OPEN_STATES = [CaseState.INTAKE, CaseState.ASSESSMENT, CaseState.PLANNING, CaseState.IN_SUPPORT]


def _case_list_prefetch(qs: QuerySet[Case]) -> QuerySet[Case]:
    """Load everything a case row shows in a fixed number of queries, whatever the page size."""
    return qs.select_related("household", "lead_organization", "lead_worker").prefetch_related(
        Prefetch("subject_rows", queryset=CaseSubject.objects.select_related("person").order_by("id")),
        "domain_rows",
    )


def _households_with_tag(tag: str) -> QuerySet[Household] | list[int]:
    """Return households carrying the tag: a JSON containment query on PostgreSQL, a scan on SQLite."""
    if connection.vendor == "postgresql":
        return Household.objects.filter(tags__contains=[tag]).values("pk")
    # SQLite (the embedded pilot) has no JSON containment lookup; households are few there.
    return [pk for pk, tags in Household.objects.values_list("pk", "tags") if tag in (tags or [])]


def case_search(
    viewer: Viewer,
    *,
    q: str = "",
    domain: str = "",
    state: str = "",
    tag: str = "",
    lead_organization: int | None = None,
    review_due: bool = False,
    mine: bool = False,
) -> QuerySet[Case]:
    """Return the viewer's cases matching the search and filters, newest first."""
    qs = cases_for_user(viewer)
    q = (q or "").strip()
    if q:
        key = search_key(q)
        # A whole number typed any way (Ｒ８－７, r8-7) finds that case; a fragment matches inside numbers.
        condition = Q(number__icontains=fold_case_number(q)) | Q(number=normalize_case_number(q))
        if key:
            condition |= Exists(
                CaseSubject.objects.filter(case=OuterRef("pk"), person__search_key__contains=key)
            ) | Exists(
                HouseholdMember.objects.filter(household=OuterRef("household"), person__search_key__contains=key)
            )
        qs = qs.filter(condition)
    if domain:
        qs = qs.filter(Exists(CaseDomain.objects.filter(case=OuterRef("pk"), domain=domain)))
    if state:
        qs = qs.filter(state=state)
    if tag:
        qs = qs.filter(household__in=_households_with_tag(tag))
    if lead_organization:
        qs = qs.filter(lead_organization_id=lead_organization)
    if review_due:
        qs = qs.filter(
            next_review_on__lte=timezone.localdate() + timedelta(days=REVIEW_DUE_DAYS), state__in=OPEN_STATES
        )
    if mine:
        qs = qs.filter(lead_worker=viewer.user)
    return _case_list_prefetch(qs.order_by("-opened_on", "-id"))


def my_cases(viewer: Viewer, *, limit: int = 10) -> list[Case]:
    """Return the open cases the viewer leads, most recently opened first."""
    return list(case_search(viewer, mine=True).filter(state__in=OPEN_STATES)[:limit])


def reviews_due(viewer: Viewer, *, limit: int = 10) -> list[Case]:
    """Return the viewer's open cases whose plan review is due within two weeks (or overdue)."""
    return list(case_search(viewer, review_due=True).order_by("next_review_on", "id")[:limit])


def household_members(household_id: int) -> list[HouseholdMember]:
    """Return a household's members, current ones first, with their persons."""
    return list(
        HouseholdMember.objects.filter(household_id=household_id).select_related("person").order_by("until", "id")
    )


def case_detail_context(case: Case, *, show_secret_addresses: bool) -> dict:
    """Return what the case page shows: household members, consent per person, plan, records, history."""
    today = timezone.localdate()
    members = household_members(case.household_id)
    subject_ids = set(case.subject_rows.values_list("person_id", flat=True))
    people = {m.person_id: m.person for m in members}
    for person in Person.objects.filter(pk__in=subject_ids - set(people)):
        people[person.pk] = person
    consents: dict[int, list[Consent]] = {pid: [] for pid in people}
    # Only the consents this case recorded: another case's consents stay with that case.
    for consent in Consent.objects.filter(case=case, person_id__in=list(people)).prefetch_related("organizations"):
        consents.setdefault(consent.person_id, []).append(consent)
    plans = list(case.plans.prefetch_related("roles__organization").order_by("-version"))
    current_plan = next((p for p in plans if p.status == SupportPlan.Status.APPROVED), None) or (
        plans[0] if plans else None
    )
    return {
        "members": members,
        "subject_ids": subject_ids,
        "people": people,
        "other_subjects": [people[pid] for pid in subject_ids if pid not in {m.person_id for m in members}],
        "consents": consents,
        "show_secret_addresses": show_secret_addresses,
        "plans": plans,
        "current_plan": current_plan,
        "assessments": list(case.assessments.select_related("by")),
        "contacts": list(
            ContactRecord.objects.filter(case=case).select_related("person", "recorded_by", "organization")[:50]
        ),
        "transitions": list(case.transitions.select_related("by", "approval__requested_by")),
        "approvals": list(
            case.approval_requests.select_related("requested_by", "decided_by", "plan").order_by("requested_at", "id")
        ),
        "lead_changes": list(
            case.lead_changes.select_related("from_organization", "to_organization", "from_worker", "to_worker", "by")
        ),
        "worker_handovers": list(
            case.worker_handovers.select_related("handover", "handover__by", "from_worker", "to_worker").order_by(
                "handover__at", "id"
            )
        ),
        "team": list(case.team_rows.select_related("organization").order_by("ended_at", "added_at")),
        "today": today,
    }


def lead_worker_candidates(organization_id: int | None):
    """Return the active caseworkers and supervisors of an organization: who may be its 主担当者."""
    from django.contrib.auth import get_user_model

    if organization_id is None:
        return get_user_model().objects.none()
    return (
        get_user_model()
        .objects.filter(
            membership_active_q(prefix="memberships__"),
            is_active=True,
            memberships__organization_id=organization_id,
            memberships__role__in=[Role.CASEWORKER, Role.SUPERVISOR],
        )
        .distinct()
        .order_by("last_name", "first_name", "id")
    )


def lead_organization_candidates(case: Case):
    """Return the organizations that may take over as the case's lead: active windows and coordinators."""

    return (
        Organization.objects.filter(is_active=True, kind__in=[Organization.Kind.WINDOW, Organization.Kind.COORDINATOR])
        .exclude(pk=case.lead_organization_id)
        .order_by("kind", "name")
    )


def lead_worker_memberships(organizations) -> list[Membership]:
    """Return the active case-working memberships of the organizations, for a worker list grouped by organization."""
    return list(
        Membership.objects.active()
        .filter(
            organization__in=organizations,
            role__in=[Role.CASEWORKER, Role.SUPERVISOR],
            user__is_active=True,
        )
        .select_related("user", "organization")
        .order_by("organization__kind", "organization__name", "user__last_name", "user__first_name", "id")
    )


def break_glass_uses(start: datetime | date, end: datetime | date) -> QuerySet[BreakGlassAccess]:
    """Return break-glass accesses started in [start, end) for the auditor screens."""
    if isinstance(start, date) and not isinstance(start, datetime):
        start = timezone.make_aware(datetime.combine(start, datetime.min.time()))
    if isinstance(end, date) and not isinstance(end, datetime):
        end = timezone.make_aware(datetime.combine(end, datetime.min.time()))
    return (
        BreakGlassAccess.objects.filter(started_at__gte=start, started_at__lt=end)
        .select_related("user", "case", "reviewed_by")
        .order_by("-started_at", "-id")
    )


def home_panels(request, viewer: Viewer) -> list:
    """Return the casework kernel's panels for the viewer's home page."""
    from django.utils.translation import gettext as _

    panels = [
        Panel(
            _("所属"),
            "casework/panels/memberships.html",
            {"memberships": viewer.all_memberships, "active": viewer.active_membership},
            order=90,
        )
    ]
    if viewer.is_administrator:
        pending = MembershipGrant.objects.filter(status=MembershipGrant.Status.PENDING).count()
        panels.append(
            Panel(_("利用者と機関の管理"), "casework/panels/administration.html", {"pending_grants": pending}, order=10)
        )
    if viewer.works_cases:
        mine, due = my_cases(viewer), reviews_due(viewer)
        shown = case_list_person_ids([*mine, *due])
        try:
            if shown:
                audit.log_access(
                    actor=request.user,
                    action=AccessLog.Action.LIST,
                    object_type="case_home",
                    person_ids=shown,
                    basis=AccessLog.Basis.OWN_ORGANIZATION,
                )
            unavailable = False
        except audit.AccessLogUnavailable:
            # Fail closed: without a log row the names are not shown.
            mine, due, unavailable = [], [], True
        panels.append(
            Panel(
                _("担当ケース"), "casework/panels/my_cases.html", {"cases": mine, "unavailable": unavailable}, order=20
            )
        )
        panels.append(
            Panel(
                _("見直し期限が近いケース"),
                "casework/panels/reviews_due.html",
                {"cases": due, "unavailable": unavailable, "days": REVIEW_DUE_DAYS},
                order=21,
            )
        )
    if viewer.is_auditor:
        panels.extend(audit_home_panels(request, viewer))
    return panels


# ---------------------------------------------------------------------------
# An organization's own administrator (組織管理者): its staff, memberships and requests
# ---------------------------------------------------------------------------


def org_admin_accounts(organization: Organization):
    """The accounts of the organization: anyone who holds, held or was asked a role in it.

    Superusers and system administrators are never among them: an organization's administrator
    cannot touch the accounts that administer the whole system.
    """
    from django.contrib.auth import get_user_model

    admins = Membership.objects.filter(role=Role.ADMINISTRATOR, is_active=True).values("user_id")
    return (
        get_user_model()
        .objects.filter(
            Q(memberships__organization=organization) | Q(membership_grants__organization=organization),
            is_superuser=False,
        )
        .exclude(pk__in=admins)
        .distinct()
        .order_by("last_name", "first_name", "id")
    )


def org_admin_memberships(organization: Organization) -> list[Membership]:
    """The organization's memberships, current first, with their history (names are shown family first)."""
    return list(
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .prefetch_related("events")
        .order_by("-is_active", "user__last_name", "user__first_name", "role", "id")
    )


def org_admin_pending_grants(organization: Organization) -> list[MembershipGrant]:
    """The organization's requests waiting for a second person, oldest first."""
    return list(
        MembershipGrant.objects.filter(organization=organization, status=MembershipGrant.Status.PENDING)
        .select_related("user", "requested_by")
        .order_by("requested_at", "id")
    )


def org_admin_decided_grants(organization: Organization, *, limit: int = 20) -> list[MembershipGrant]:
    """The organization's latest decided requests: who asked, who approved or rejected, when."""
    return list(
        MembershipGrant.objects.filter(organization=organization)
        .exclude(status=MembershipGrant.Status.PENDING)
        .select_related("user", "requested_by", "decided_by")
        .order_by("-decided_at", "-id")[:limit]
    )


# 名寄せ: candidate duplicates within the viewer's reach, and the links and merges a viewer may see
# ---------------------------------------------------------------------------

# Addresses this similar (pg_trgm's measure, on folded addresses) count as "似ている".
ADDRESS_SIMILAR = 0.5
# Looser bound for the database's first pass: the final score is computed on folded addresses.
ADDRESS_PREFILTER = 0.3
CANDIDATES_MAX = 30


class MatchCandidate:
    """A person who may be the same as another, with the reasons in Japanese and the cases the viewer may open."""

    def __init__(self, person, reasons: list[str], score: int, case_numbers: list[str]):
        self.person = person
        self.reasons = reasons
        self.score = score
        self.case_numbers = case_numbers


def _person_address(p) -> str:
    return p.prefecture + p.city + p.street


def _match_reasons(person, other) -> tuple[list[str], int]:
    """Compare two records on folded kana, birth date, phone and address; return (reasons, score)."""
    from core.japanese import address_key, phone_key, trigram_similarity

    reasons, score = [], 0
    if person.kana_key and person.kana_key == other.kana_key:
        reasons.append("フリガナが一致")
        score += 3
    if person.birth_date and person.birth_date == other.birth_date:
        reasons.append("生年月日が一致")
        score += 3
    phones = {phone_key(x) for x in (person.phone, person.phone_alt)} - {""}
    if phones & ({phone_key(x) for x in (other.phone, other.phone_alt)} - {""}):
        reasons.append("電話番号が一致")
        score += 2
    mine, theirs = _person_address(person), _person_address(other)
    if mine and theirs and not person.address_secret and not other.address_secret:
        similarity = trigram_similarity(address_key(mine), address_key(theirs))
        if similarity >= ADDRESS_SIMILAR:
            reasons.append(f"住所が似ている（類似度 {similarity:.2f}）")
            score += 2 if similarity < 0.9 else 3
    return reasons, score


def person_match_candidates(viewer: Viewer, person: Person) -> list[MatchCandidate]:
    """Return records within the viewer's reach that may be the same person, best first.

    Only persons shown by a case the viewer may open now (the disclosure module's person_basis) are
    looked at, so a record outside the reach is never named, counted or hinted at. A candidate needs
    two signals (score 5): folded kana with birth date, phone or address; or birth date with phone
    or address. On PostgreSQL, pg_trgm's similarity finds similar addresses in the database; on
    SQLite the same measure is computed in Python over the reach.
    """
    from django.contrib.postgres.search import TrigramSimilarity
    from django.db.models.functions import Concat

    from casework import disclosure
    from core.japanese import phone_key

    reach = disclosure.persons_within_reach(viewer).exclude(pk=person.pk)
    already = PersonMatch.objects.filter(
        Q(survivor=person) | Q(merged=person), state__in=[PersonMatch.State.REQUESTED, PersonMatch.State.DONE]
    )
    reach = reach.exclude(pk__in=already.values("survivor_id")).exclude(pk__in=already.values("merged_id"))
    signals = Q()
    if person.birth_date:
        signals |= Q(birth_date=person.birth_date)
    if person.kana_key:
        signals |= Q(search_key__contains=person.kana_key)
    for phone in {phone_key(x) for x in (person.phone, person.phone_alt)} - {""}:
        if len(phone) >= 4:
            signals |= Q(phone__endswith=phone[-4:]) | Q(phone_alt__endswith=phone[-4:])
    address = _person_address(person)
    if address and not person.address_secret:
        if connection.vendor == "postgresql":
            similar = reach.annotate(
                nayose_sim=TrigramSimilarity(Concat("prefecture", "city", "street"), address)
            ).filter(nayose_sim__gte=ADDRESS_PREFILTER)
            signals |= Q(pk__in=similar.values("pk"))
        else:
            signals |= Q(city=person.city) if person.city else Q()
    if not signals:
        return []
    found = []
    for other in reach.filter(signals).distinct()[:500]:
        reasons, score = _match_reasons(person, other)
        if score >= 5:
            found.append((other, reasons, score))
    found.sort(key=lambda row: (-row[2], row[0].pk))
    result = []
    for other, reasons, score in found:
        if len(result) >= CANDIDATES_MAX:
            break
        # Confirmed one by one: a caseload row whose basis lapsed (an expired consent) shows nothing.
        if disclosure.person_basis(viewer, other.pk) is None:
            continue
        result.append(MatchCandidate(other, reasons, score, _visible_case_numbers(viewer, other.pk)))
    return result


def _visible_case_numbers(viewer: Viewer, person_id: int) -> list[str]:
    """Return the numbers of the cases showing the person that the viewer may open now."""
    from casework import disclosure

    case_ids = disclosure.person_case_ids([person_id])[person_id]
    cases = cases_for_user(viewer).filter(pk__in=case_ids).select_related("lead_organization").order_by("number")
    return [c.number for c in cases if disclosure.case_basis(viewer, c) is not None]


def person_matches_of(viewer: Viewer, person: Person) -> list[PersonMatch]:
    """Return the links and merges naming the person whose other record the viewer may see too."""
    from casework import disclosure

    rows = (
        PersonMatch.objects.filter(Q(survivor=person) | Q(merged=person))
        .select_related("survivor", "merged", "requested_organization")
        .order_by("-requested_at", "-id")
    )
    shown = []
    for match in rows:
        other = match.merged if match.survivor_id == person.pk else match.survivor
        merged_away = match.kind == PersonMatch.Kind.MERGE and match.state == PersonMatch.State.DONE
        # A record merged into this one has no case of its own left: it is this person now.
        if merged_away and other.pk == match.merged_id or disclosure.person_basis(viewer, other.pk) is not None:
            match.other = other
            shown.append(match)
    return shown


def person_matches_waiting(viewer: Viewer) -> list[PersonMatch]:
    """Return the requests waiting for the agreement of the viewer's organization, both records within reach."""
    from casework import disclosure

    orgs = disclosure.case_organization_ids(viewer)
    if not orgs:
        return []
    rows = (
        PersonMatch.objects.filter(state=PersonMatch.State.REQUESTED, required_organizations__in=orgs)
        .exclude(agreements__organization_id__in=orgs)
        .select_related("survivor", "merged", "requested_organization")
        .distinct()
        .order_by("requested_at", "id")[:100]
    )
    return [
        m
        for m in rows
        if disclosure.person_basis(viewer, m.survivor_id) is not None
        and disclosure.person_basis(viewer, m.merged_id) is not None
    ]


def case_organization_ids_of(viewer: Viewer) -> set[int]:
    """Return the organizations the viewer works cases for now (the active hat)."""
    from casework import disclosure

    return disclosure.case_organization_ids(viewer)


def person_match_records(viewer: Viewer, match: PersonMatch) -> list[dict]:
    """Return both records of a link or merge for its screen, each with the case numbers the viewer may open."""
    rows = []
    for person, label in ((match.survivor, "残す記録"), (match.merged, "統合される記録")):
        if match.kind == PersonMatch.Kind.LINK:
            label = "記録"
        rows.append({"person": person, "label": label, "case_numbers": _visible_case_numbers(viewer, person.pk)})
    return rows


# ---------------------------------------------------------------------------
# The operator's screen of scheduled jobs and the queue (administrators)
# ---------------------------------------------------------------------------

FAILED_JOBS_SHOWN = 20


def scheduled_jobs_overview(today: date) -> list[dict]:
    """Each registered daily job with its latest run (day, queued, finished, result) and the day queued next."""
    from casework.models import ScheduledRun
    from casework.scheduling import DAILY_JOBS

    # One query per registered job (a handful): the unique (name, day) index serves each.
    latest = {name: ScheduledRun.objects.filter(name=name).order_by("-day").first() for name in DAILY_JOBS}
    rows = []
    for name, job in sorted(DAILY_JOBS.items(), key=lambda pair: pair[1].label):
        run = latest.get(name)
        if run is None:
            state = "never"
        elif run.finished_at is None:
            state = "queued"
        else:
            state = "ok" if run.ok else "failed"
        next_day = today + timedelta(days=1) if run is not None and run.day >= today else today
        rows.append({"name": name, "label": job.label, "run": run, "state": state, "next_day": next_day})
    return rows


def job_queue_counts() -> dict:
    """How many jobs wait, run and failed (all queues), and the latest failures (task and when, no arguments)."""
    from django.db.models import Count
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    counts = dict(DBTaskResult.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    failed = list(
        DBTaskResult.objects.filter(status=TaskResultStatus.FAILED)
        .order_by("-finished_at")
        .values("task_path", "enqueued_at", "finished_at", "exception_class_path")[:FAILED_JOBS_SHOWN]
    )
    return {
        "ready": counts.get(TaskResultStatus.READY, 0),
        "running": counts.get(TaskResultStatus.RUNNING, 0),
        "failed": counts.get(TaskResultStatus.FAILED, 0),
        "successful": counts.get(TaskResultStatus.SUCCESSFUL, 0),
        "recent_failures": failed,
    }


# ---------------------------------------------------------------------------
# 個人情報ファイル簿 (個人情報保護法 第75条) and the retention screens
# ---------------------------------------------------------------------------

# Files with fewer persons than this need no 個人情報ファイル簿 entry (法第74条第2項第9号).
FILE_LEDGER_THRESHOLD = 1000


def _record_items(model, skip: set[str]) -> list[str]:
    """The Japanese names of a model's recorded fields (keys, system stamps and search keys left out)."""
    names = []
    for f in model._meta.concrete_fields:
        if f.primary_key or f.is_relation or not f.editable or f.name in skip:
            continue
        names.append(str(f.verbose_name))
    return names


def personal_info_file_entry(today: date | None = None) -> list[tuple[str, str]]:
    """Return the 個人情報ファイル簿 entry of this system's file as (項目, 内容), from the live data and models."""
    from casework.models import Assessment, IntakeRoute, MigrationSource, RetentionRule, SupportPlan
    from casework.retention import kind_label

    today = today or timezone.localdate()
    municipality = Organization.objects.filter(kind=Organization.Kind.MUNICIPAL, is_active=True).order_by("pk").first()
    persons = Person.objects.count()
    items = [
        ("本人・世帯員", _record_items(Person, {"is_anonymous", "address_secret", "search_key"})),
        ("世帯", [str(HouseholdMember._meta.get_field("relationship").verbose_name), "同居・別居", "世帯の状況"]),
        ("ケース", _record_items(Case, {"number", "version", "next_review_on"}) + ["分野", "主担当機関"]),
        ("アセスメント", _record_items(Assessment, {"schema_version"})),
        ("支援プラン", _record_items(SupportPlan, {"version", "approved_by_ref"})),
        ("支援経過記録", _record_items(ContactRecord, set())),
        ("同意", _record_items(Consent, {"scanned_form"}) + ["同意書の写し"]),
    ]
    routes = dict(
        Case.objects.order_by().values("intake_route").annotate(n=Count("id")).values_list("intake_route", "n")
    )
    sources = [
        f"{IntakeRoute(code).label}（{n:,}件）" for code, n in sorted(routes.items()) if code in IntakeRoute.values
    ]
    migrated = list(MigrationSource.objects.order_by("name").values_list("name", flat=True))
    if migrated:
        sources.append("他のシステム・台帳からの移行（" + "、".join(migrated) + "）")
    team_kinds = dict(
        Organization.objects.filter(case_team_rows__isnull=False)
        .order_by()
        .values("kind")
        .annotate(n=Count("id", distinct=True))
        .values_list("kind", "n")
    )
    recipients = [
        f"{Organization.Kind(k).label}（{n}機関）"
        for k, n in sorted(team_kinds.items())
        if k in Organization.Kind.values
    ]
    rules = [f"{kind_label(r.kind)}: {r.years}年" for r in RetentionRule.objects.order_by("kind")]
    return [
        ("個人情報ファイルの名称", "重層的支援体制整備事業 相談支援記録ファイル"),
        ("行政機関等の名称", municipality.name if municipality else "（市町村の機関が登録されていません）"),
        (
            "個人情報ファイルが利用に供される事務",
            "社会福祉法第106条の4に基づく重層的支援体制整備事業（包括的相談支援、多機関協働、参加支援、アウトリーチ等を通じた継続的支援）",
        ),
        (
            "個人情報ファイルの利用目的",
            "相談者とその世帯への支援の実施、関係機関との連携（本人同意又は支援会議による）、支援会議・重層的支援会議の運営、事業の実績報告",
        ),
        ("記録項目", "；".join(f"{group}: " + "、".join(names) for group, names in items)),
        ("記録範囲", "相談を受け付けた本人及びその世帯員"),
        ("記録情報の収集方法", "、".join(sources) or "（まだ記録がありません）"),
        (
            "要配慮個人情報が含まれるときは、その旨",
            "含む（心身の障害、病歴、犯罪被害等が相談内容・記録に含まれることがある）",
        ),
        ("記録情報の経常的提供先", "、".join(recipients) or "なし"),
        ("保存期間", "、".join(rules)),
        (
            "開示請求等を受理する組織の名称及び所在地",
            "個人情報保護担当（開示請求の受付）"
            + (f"、{municipality.name}" if municipality else "")
            + (f"（{municipality.address}）" if municipality and municipality.address else ""),
        ),
        ("電算処理・マニュアル処理の別", "電算処理ファイル"),
        ("本人の数", f"{persons:,}人（{format_wareki(today)}現在）"),
        (
            "個人情報ファイル簿への掲載",
            "要（本人の数が1,000人以上）"
            if persons >= FILE_LEDGER_THRESHOLD
            else "本人の数が1,000人未満のため掲載の義務はない（法第74条第2項第9号）",
        ),
    ]
