"""One world of real rows for the security tests: window A's side, window B's side, and the closed referral.

Every URL argument of the permission matrix and the object probes points at a row built here, through
the services (so grants, consents and the access log are what production would have).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field, replace
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from casework.assessment import SCHEMAS
from casework.choices import Role
from casework.models import (
    Case,
    Consent,
    ConsentPurpose,
    HouseholdMember,
    Membership,
    Organization,
    Person,
    PersonMatch,
)
from casework.samples.make_case_sample import build_sample
from casework.services.api_tokens import api_token_issue
from casework.services.approvals import approval_request_plan
from casework.services.cases import case_open, case_team_add, case_transition
from casework.services.consent import consent_record
from casework.services.disclosure_requests import disclosure_request_open
from casework.services.memberships import membership_grant_request
from casework.services.migration import migration_run_start
from casework.services.persons import household_add_member, household_create, person_create
from casework.services.plans import assessment_record, plan_create
from meetings import services as ms
from places import services as ps
from referrals import services as rs
from referrals.models import Referral
from tests.conftest import Personas, build_personas
from tests.factories import (
    MembershipFactory,
    PlaceFactory,
    UserFactory,
    give_layered_consent,
    make_case,
    make_meeting,
    put_on_agenda,
)

# The name planted in window B's case: it must never appear in a response to anyone outside B's reach.
LEAK_FAMILY_NAME = "漏洩確認"
LEAK_GIVEN_NAME = "太郎"
LEAK_NAME = LEAK_FAMILY_NAME + LEAK_GIVEN_NAME
LEAK_KANA = ("ロウエイカクニン", "タロウ")
LEAK_BIRTH_DATE = datetime.date(1961, 7, 7)
# The same kind of marker on window A's side, to prove the probes would see a name if it were shown.
OWN_NAME = "自組織花子"

SAMPLE_CSV = Path(__file__).resolve().parents[2] / "places" / "samples" / "places_sample_cp932.csv"


@dataclass(frozen=True)
class Side:
    """The rows one side of the matrix points its URL arguments at."""

    case: Case
    person: object
    consent: Consent
    assessment: object
    plan: object
    meeting: object
    item: object
    action: object
    referral: Referral
    draft_referral: Referral
    tsunagi: Referral
    place: object
    import_job: object
    proposal: object = None
    # A case-migration run waiting for its column mapping (administrators' screens; one for every side).
    migration_run: object = None
    # An open-API token of the side's window (administrators revoke it; sessions never open the API).
    api_token: object = None
    # A 開示請求 about the side's person (privacy officers, i.e. the auditor role, handle it).
    disclosure_request: object = None
    # A membership of the side's window and a role request waiting for a second person (組織管理者).
    membership: object = None
    pending_grant: object = None
    # A 名寄せ: an earlier record of the side's person merged into it by the side's window (no case left).
    person_match: object = None
    # A 決裁 waiting for the lead organization's supervisor (a second draft plan, so the first stays editable).
    approval: object = None
    # Retention (administrators' screens; the same rows for every side): a rule, a proposal, a legal hold.
    retention_rule: object = None
    disposal_decision: object = None
    legal_hold: object = None


def _retention_rows(p) -> dict:
    """A confirmed rule, a disposal proposed for an old closed case of window A, and a hold on another case."""
    from casework.services.retention import (
        disposal_propose,
        legal_hold_set,
        retention_rule_update,
        retention_rules_ensure,
        retention_run,
    )

    today = timezone.localdate()
    old = make_case(lead_organization=p.window_a, by=p.caseworker_a, family_name="保存期間")
    for to in ["assessment", "planning", "in_support", "closed"]:
        old = case_transition(case=old, to_state=to, by=p.caseworker_a, reason="目標を達成したため")
    Case.objects.filter(pk=old.pk).update(closed_on=today.replace(year=today.year - 8, day=1))
    rules = retention_rules_ensure()
    for rule in rules:
        retention_rule_update(rule=rule, years=5, basis="文書管理規程", is_active=True, by=p.administrator)
    candidates = list(retention_run(today).candidates.select_related("rule"))
    decision = disposal_propose(candidates=candidates, reason="保存期間の満了", by=p.administrator)
    held = make_case(lead_organization=p.window_a, by=p.caseworker_a, family_name="停止")
    hold = legal_hold_set(case_number=held.number, reason="審査請求の対応中", by=p.administrator)
    return {"retention_rule": rules[0], "disposal_decision": decision, "legal_hold": hold}


@dataclass
class World:
    """The personas, the extra users of window B's side and the three sides."""

    personas: Personas
    caseworker_b: object
    chair_b: object
    place_operator_b: Organization
    place_staff_b: object
    own: Side
    other: Side
    closed: Side
    clients: dict = field(default_factory=dict)  # one signed-in test client per policy subject


def _case(*, organization, worker, family_name, given_name, kana, birth_date, team=()) -> tuple[Case, object]:
    """Open a planning-stage case for a one-person household, with team organizations and consents."""
    person = person_create(
        by=worker,
        family_name=family_name,
        given_name=given_name,
        family_name_kana=kana[0],
        given_name_kana=kana[1],
        birth_date=birth_date,
    )
    household = household_create(name=f"{family_name}世帯", by=worker)
    household_add_member(household=household, person=person, relationship=HouseholdMember.Relationship.SELF, by=worker)
    case = case_open(
        household=household,
        subjects=[person],
        domains=["elderly"],
        categories=[],
        main_category="care",
        intake_route="self",
        lead_organization=organization,
        lead_worker=worker,
        summary=f"{family_name}{given_name}さんの介護と就労の相談",
        by=worker,
    )
    for state in ("assessment", "planning"):
        case = case_transition(case=case, to_state=state, by=worker)
    # The consent first (its case-team scope covers the organizations the lead adds): a team add is a share.
    give_layered_consent(case, by=worker)
    for team_org in team:
        case_team_add(case=case, organization=team_org, by=worker)
    return case, person


def _merged_record(person, organization, worker):
    """Record that an earlier record of the person (with no case of its own) was merged into it by the lead window."""
    earlier = Person.objects.create(family_name="旧記録", given_name="名寄せ済", family_name_kana="キュウキロク")
    match = PersonMatch.objects.create(
        kind=PersonMatch.Kind.MERGE,
        state=PersonMatch.State.DONE,
        survivor=person,
        merged=earlier,
        reason="同じ方の二重登録",
        requested_by=worker,
        requested_organization=organization,
        done_at=timezone.now(),
    )
    match.required_organizations.set([organization])
    return match


def _side(*, case, person, worker, lead, place, place_staff, chair, secretary, participants) -> Side:
    """Build a side's records under its case: consent with a form, assessment, plan, meeting, referrals, import."""
    consent = consent_record(
        person=person,
        case=case,
        given_on=timezone.localdate() - datetime.timedelta(days=5),
        method=Consent.Method.WRITTEN,
        explained_by=worker,
        scope_kind=Consent.ScopeKind.NAMED,
        organizations=[place.operator],
        purposes=[ConsentPurpose.PLACE_REFERRAL],
        scanned_form=SimpleUploadedFile("consent.pdf", b"%PDF-1.4 matrix", content_type="application/pdf"),
        by=worker,
    )
    assessment = assessment_record(
        case=case,
        checklist={key: "unknown" for key, _label in SCHEMAS[1]},
        narrative="所見",
        assessed_on=timezone.localdate(),
        by=worker,
    )
    plan = plan_create(case=case, goals="週1回の訪問で生活を整える", by=worker)
    approval = approval_request_plan(
        plan=plan_create(case=case, goals="決裁を待つ版", by=worker), by=worker, decided_by_label=""
    )
    meeting = make_meeting(chair=chair, secretary=secretary, participants=participants, kind="layered_meeting")
    item = put_on_agenda(meeting=meeting, case=case, purpose="plan_agreement", by=chair)
    decision = ms.meeting_decide(
        item=item, kind="action", text="訪問の継続", actions=[{"organization": lead, "text": "訪問の継続"}], by=chair
    )
    action = decision.actions.get()
    # An open proposal for a 支援会議, waiting in the chair's queue.
    proposal = ms.case_propose(case=case, kind="support_meeting", purpose="information_sharing", by=worker)

    def participation(**card):
        referral = rs.referral_create(
            kind="participation",
            by=worker,
            sender_organization=lead,
            receiver_organization=place.operator,
            case=case,
            person=person,
            place=place,
            request_text="参加の受け入れをお願いします",
            card_preferred_name="たろうさん",
            **card,
        )
        return rs.referral_send(referral=referral, by=worker)

    referral = rs.referral_move(move="accept", referral=participation(), by=place_staff)
    draft = rs.referral_create(
        kind="participation",
        by=worker,
        sender_organization=lead,
        receiver_organization=place.operator,
        case=case,
        person=person,
        place=place,
        request_text="下書き",
        card_preferred_name="たろうさん",
    )
    tsunagi = rs.referral_create(
        kind="tsunagi",
        by=place_staff,
        sender_organization=place.operator,
        receiver_organization=lead,
        request_text="最近元気がない方がいます",
        card_preferred_name="常連の方",
    )
    tsunagi = rs.referral_send(referral=tsunagi, by=place_staff, tsunagi_basis="person_agreed")
    job = ps.import_job_start(
        data=SAMPLE_CSV.read_bytes(), file_name="places.csv", encoding="cp932", operator=place.operator, by=place_staff
    )
    return Side(
        case=case,
        person=person,
        consent=consent,
        assessment=assessment,
        plan=plan,
        meeting=meeting,
        item=item,
        action=action,
        referral=referral,
        draft_referral=draft,
        tsunagi=tsunagi,
        place=place,
        import_job=job,
        proposal=proposal,
        approval=approval,
    )


def build_world() -> World:
    """Create both sides; A's case has the coordinator and the municipality on its team."""
    p = build_personas()
    place_operator_b = Organization.objects.create(name="NPO法人 ひだまり", kind=Organization.Kind.PLACE_OPERATOR)

    def member(username, org, role, **names):
        return MembershipFactory(user=UserFactory(username=username, **names), organization=org, role=role).user

    caseworker_b = p.caseworker_b
    chair_b = member("chair_b", p.municipal, Role.CASEWORKER, last_name="小林", first_name="九郎")
    place_staff_b = member("place_b", place_operator_b, Role.PLACE_STAFF, last_name="加藤", first_name="十和")

    case_a, person_a = _case(
        organization=p.window_a,
        worker=p.caseworker_a,
        family_name="自組織",
        given_name="花子",
        kana=("ジソシキ", "ハナコ"),
        birth_date=datetime.date(1950, 1, 1),
        team=[p.coordinator_org, p.municipal],
    )
    case_b, person_b = _case(
        organization=p.window_b,
        worker=caseworker_b,
        family_name=LEAK_FAMILY_NAME,
        given_name=LEAK_GIVEN_NAME,
        kana=LEAK_KANA,
        birth_date=LEAK_BIRTH_DATE,
    )
    place_a = PlaceFactory(operator=p.place_operator, name="みんなの子ども食堂")
    place_b = PlaceFactory(operator=place_operator_b, name="ひだまりサロン")
    own = _side(
        case=case_a,
        person=person_a,
        worker=p.caseworker_a,
        lead=p.window_a,
        place=place_a,
        place_staff=p.place_staff,
        chair=p.chair,
        secretary=p.coordinator,
        participants=[p.caseworker_a],
    )
    other = _side(
        case=case_b,
        person=person_b,
        worker=caseworker_b,
        lead=p.window_b,
        place=place_b,
        place_staff=place_staff_b,
        chair=chair_b,
        secretary=None,
        participants=[caseworker_b],
    )
    # A second participation referral to A's place that has ended, and whose card time has run out.
    ended = rs.referral_create(
        kind="participation",
        by=p.caseworker_a,
        sender_organization=p.window_a,
        receiver_organization=p.place_operator,
        case=case_a,
        person=person_a,
        place=place_a,
        request_text="終了した紹介",
        card_preferred_name="はなこさん",
    )
    ended = rs.referral_send(referral=ended, by=p.caseworker_a)
    ended = rs.referral_move(move="accept", referral=ended, by=p.place_staff)
    ended = rs.referral_move(referral=ended, move="start", by=p.place_staff)
    ended = rs.referral_move(move="complete", referral=ended, by=p.caseworker_a, outcome="定着して卒業")
    Referral.objects.filter(pk=ended.pk).update(place_access_until=timezone.now() - datetime.timedelta(minutes=1))
    ended.refresh_from_db()
    run = migration_run_start(
        source_name="旧システム", data=build_sample(3, [p.window_a.name]), file_name="old.csv", by=p.administrator
    )
    token_a, _secret = api_token_issue(
        organization=p.window_a, label="統計基盤", scopes=["hsds:read", "fhir-task:read"], by=p.administrator
    )
    token_b, _secret = api_token_issue(
        organization=p.window_b, label="統計基盤", scopes=["hsds:read", "fhir-task:read"], by=p.administrator
    )
    today = timezone.localdate()
    request_a = disclosure_request_open(person=person_a, received_on=today, requester="self", by=p.auditor)
    request_b = disclosure_request_open(person=person_b, received_on=today, requester="self", by=p.auditor)
    grant_a = membership_grant_request(
        user=UserFactory(username="newcomer_a", last_name="新人", first_name="甲"),
        organization=p.window_a,
        role=Role.CASEWORKER,
        reason="4月1日付 着任",
        by=p.administrator,
    )
    grant_b = membership_grant_request(
        user=UserFactory(username="newcomer_b", last_name="新人", first_name="乙"),
        organization=p.window_b,
        role=Role.CASEWORKER,
        reason="4月1日付 着任",
        by=p.administrator,
    )
    own = replace(
        own,
        migration_run=run,
        api_token=token_a,
        disclosure_request=request_a,
        membership=Membership.objects.get(user=p.caseworker_a, organization=p.window_a),
        pending_grant=grant_a,
        person_match=_merged_record(person_a, p.window_a, p.caseworker_a),
    )
    other = replace(
        other,
        migration_run=run,
        api_token=token_b,
        disclosure_request=request_b,
        membership=Membership.objects.get(user=caseworker_b, organization=p.window_b),
        pending_grant=grant_b,
        person_match=_merged_record(person_b, p.window_b, caseworker_b),
    )
    retention = _retention_rows(p)
    own = replace(own, **retention)
    other = replace(other, **retention)
    return World(
        personas=p,
        caseworker_b=caseworker_b,
        chair_b=chair_b,
        place_operator_b=place_operator_b,
        place_staff_b=place_staff_b,
        own=own,
        other=other,
        closed=replace(own, referral=ended),
    )
