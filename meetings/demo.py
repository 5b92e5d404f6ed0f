"""Demo meetings: a scheduled 重層的支援会議 with consented cases and a 支援会議 with pledges (idempotent)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from casework.models import Case, CaseState, Consent, ConsentPurpose, HouseholdMember
from casework.services.cases import case_open, case_team_add, case_transition
from casework.services.consent import consent_record
from casework.services.persons import household_add_member, household_create, person_create
from casework.services.plans import plan_approve, plan_create, plan_propose
from meetings import services as ms
from meetings.models import CaseProposal, Meeting, MeetingKind

LAYERED_TITLE = "令和の重層的支援会議（デモ）"
SUPPORT_TITLE = "支援会議（デモ・法第106条の6）"
PREVIOUS_TITLE = "前回の支援会議（デモ・議事録確定）"

# (household, family name, given name, kana, state, summary, goals) for the meetings' own demo cases.
DEMO_CASES = [
    (
        "デモ 会議 森世帯",
        "森",
        "和夫",
        ("モリ", "カズオ"),
        CaseState.PLANNING,
        "80代の母と50代の本人の二人暮らし。本人は長くひきこもり、母の介護と家計に不安がある（8050）。",
        "本人が週1回サロンに通い、母の介護サービス利用を始める。",
    ),
    (
        "デモ 会議 林世帯",
        "林",
        "美香",
        ("ハヤシ", "ミカ"),
        CaseState.IN_SUPPORT,
        "ひとり親で子の不登校と家計の相談。就労が安定し、子も登校を再開した。",
        "家計を立て直し、子の登校を支える。",
    ),
]


def _starts_at(days: int, hour: int) -> datetime:
    day = timezone.localdate() + timedelta(days=days)
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def _demo_case(spec, base) -> Case:
    household_name, family, given, (family_kana, given_kana), state, summary, goals = spec
    existing = Case.objects.filter(household__name=household_name).first()
    if existing is not None:
        return existing
    worker = base["users"]["houkatsu_sato"]
    lead = base["organizations"]["houkatsu"]
    person = person_create(
        by=worker, family_name=family, given_name=given, family_name_kana=family_kana, given_name_kana=given_kana
    )
    household = household_create(name=household_name, by=worker, tags=["8050"] if family == "森" else [])
    household_add_member(household=household, person=person, relationship=HouseholdMember.Relationship.SELF, by=worker)
    case = case_open(
        household=household,
        subjects=[person],
        domains=["elderly", "poverty"] if family == "森" else ["child", "poverty"],
        categories=["hikikomori", "care"] if family == "森" else ["livelihood"],
        main_category="hikikomori" if family == "森" else "livelihood",
        intake_route="family",
        lead_organization=lead,
        lead_worker=worker,
        summary=summary,
        by=worker,
    )
    consent_record(
        person=person,
        case=case,
        given_on=timezone.localdate() - timedelta(days=30),
        method=Consent.Method.WRITTEN,
        explained_by=worker,
        scope_kind=Consent.ScopeKind.CASE_TEAM,
        purposes=[ConsentPurpose.LAYERED_MEETING, ConsentPurpose.SHARE_WITH_AGENCIES],
        valid_until=timezone.localdate() + timedelta(days=365),
        document_version="R7-1",
        by=worker,
    )
    # After the consent: adding an organization to the team is a share and needs its basis.
    case_team_add(case=case, organization=base["organizations"]["shakyo"], by=worker, note="多機関協働")
    for step in (CaseState.ASSESSMENT, CaseState.PLANNING):
        case = case_transition(case=case, to_state=step, by=worker)
    plan = plan_create(case=case, goals=goals, by=worker, next_review_on=timezone.localdate() + timedelta(days=90))
    if state == CaseState.IN_SUPPORT:
        plan_approve(plan=plan, by=worker, decided_by_label="重層的支援会議（デモ・前回）")
    else:
        plan_propose(plan=plan, by=worker)
    case.refresh_from_db()
    return case


def _meeting(title, kind, days, hour, base, participants) -> tuple[Meeting, bool]:
    existing = Meeting.objects.filter(title=title).first()
    if existing is not None:
        return existing, False
    users, orgs = base["users"], base["organizations"]
    meeting = ms.meeting_create(
        kind=kind,
        title=title,
        starts_at=_starts_at(days, hour),
        convened_by=orgs["city"],
        chair=users["city_yamamoto"],
        secretary=users["shakyo_watanabe"],
        place="みどり市役所 本庁舎3階 第2会議室",
        by=users["city_yamamoto"],
    )
    for username in participants:
        ms.meeting_participant_add(meeting=meeting, user=users[username], by=users["city_yamamoto"])
    return meeting, True


def _put_on_agenda(meeting, case: Case, purpose: str, chair):
    """Propose the case as its lead worker (as the case page does), then add it from the chair's queue."""
    if not CaseProposal.objects.filter(case=case, kind=meeting.kind, state=CaseProposal.State.PROPOSED).exists():
        ms.case_propose(case=case, kind=meeting.kind, purpose=purpose, by=case.lead_worker)
    return ms.agenda_item_add(meeting=meeting, case=case, purpose=purpose, by=chair)


@transaction.atomic
def seed(stdout, base: dict) -> None:
    """Create the demo meetings once; later runs leave them as they are."""
    chair = base["users"]["city_yamamoto"]
    try:
        with transaction.atomic():
            cases = [_demo_case(spec, base) for spec in DEMO_CASES]
    except DatabaseError as exc:
        # A database that refuses one of casework's demo steps must not stop the rest of the demo:
        # the meetings are still created, with whatever demo cases other apps provide.
        stdout.write(f"会議用のデモケースを作成できませんでした（{exc}）。")
        cases = []
    # Cases from other apps' demo data join when their persons consented to 重層的支援会議.
    extra = base.get("cases") or []
    extra = list(extra.values()) if isinstance(extra, dict) else list(extra)

    layered, created = _meeting(
        LAYERED_TITLE,
        MeetingKind.LAYERED_MEETING,
        1,
        10,
        base,
        ["houkatsu_sato", "shougai_suzuki", "jiritsu_ito", "kodomo_tanaka"],
    )
    if created:
        for case, purpose in zip(cases, ["plan_agreement", "closure_decision"], strict=False):
            _put_on_agenda(layered, case, purpose, chair)
        for case in extra:
            if ms.agenda_gate(meeting=layered, case=case).allowed:
                try:
                    with transaction.atomic():
                        _put_on_agenda(layered, case, "progress_review", chair)
                except (ValidationError, PermissionError):
                    continue  # its lead does not take part, or its worker may not propose it
    support, created = _meeting(
        SUPPORT_TITLE, MeetingKind.SUPPORT_MEETING, 3, 14, base, ["houkatsu_sato", "jiritsu_ito", "kodomo_tanaka"]
    )
    if created:
        for participant in support.participants.filter(removed_at__isnull=True):
            if participant.user.username != "kodomo_tanaka":  # one pledge left to show the gate
                ms.pledge_record(participant=participant, by=chair, signed_on=timezone.localdate())
        for case in cases[:1]:
            _put_on_agenda(support, case, "information_sharing", chair)
    if len(cases) > 1:
        _previous_meeting(cases[1], base)
    stdout.write(f"会議: {LAYERED_TITLE} / {SUPPORT_TITLE}（議長 city_yamamoto・書記 shakyo_watanabe）")
    stdout.write(f"会議: {PREVIOUS_TITLE}（役割分担の対応事項は各機関のホーム画面に表示）")


def _previous_meeting(case: Case, base: dict) -> None:
    """Hold a past meeting with locked minutes whose action items are still open (one overdue)."""
    # A 支援会議 (art. 106-6): the demo case was opened today, so no consent or case team existed 4 weeks ago.
    meeting, created = _meeting(
        PREVIOUS_TITLE, MeetingKind.SUPPORT_MEETING, -28, 10, base, ["houkatsu_sato", "jiritsu_ito", "kodomo_tanaka"]
    )
    if not created:
        return
    chair, orgs = base["users"]["city_yamamoto"], base["organizations"]
    for participant in meeting.participants.filter(removed_at__isnull=True):
        ms.pledge_record(participant=participant, by=chair, signed_on=meeting.meeting_date)
    item = _put_on_agenda(meeting, case, "progress_review", chair)
    ms.meeting_start(meeting=meeting, by=chair)
    for participant in meeting.participants.filter(removed_at__isnull=True):
        if participant.user.username != "kodomo_tanaka":  # one participant sent apologies
            ms.participant_attendance_record(participant=participant, attended=True, by=chair)
    ms.agenda_item_note(
        item=item, notes="就労は安定。家計の見直しと子の登校の見守りを続ける。", based_on_version=item.version, by=chair
    )
    today = timezone.localdate()
    for org_key, text, due in [
        ("jiritsu", "家計改善支援の面談を設定する", today - timedelta(days=7)),
        ("kodomo", "子の登校状況を学校と確認する", today + timedelta(days=10)),
    ]:
        ms.meeting_decide(
            item=item,
            kind="action",
            text=text,
            actions=[{"organization": orgs[org_key], "text": text, "due_on": due}],
            by=chair,
        )
    ms.meeting_conclude(meeting=meeting, by=chair)
    ms.minutes_approve(meeting=meeting, by=chair)
