"""A small municipality with known answers for every figure of 年度 2025 (令和7年度)."""

from dataclasses import dataclass
from datetime import date, datetime

import pytest
from django.utils import timezone

from casework.models import Case, CaseTransition, SupportPlan
from meetings.models import AgendaItem, Meeting, MeetingParticipant
from places.models import Place
from referrals.models import Referral, ReferralTransition
from tests.factories import PersonFactory, make_case, make_referral

FY = 2025


def jst(*args) -> datetime:
    """Return an aware datetime in the site's time zone (Asia/Tokyo)."""
    return timezone.make_aware(datetime(*args))


@dataclass
class World:
    personas: object
    case_before: Case
    case1: Case
    case2: Case
    case3: Case
    inter_agency: Referral
    participation: Referral
    layered: Meeting
    place: Place


def _backdate_transitions(referral: Referral, when: datetime) -> None:
    ReferralTransition.objects.filter(referral=referral).update(at=when)


@pytest.fixture
def world(personas, place) -> World:
    """Build the data through the services, then move the timestamps into 年度 2025.

    Known answers for 年度 2025, municipality-wide:
      new cases 3 (Apr 1, Jun 1, Mar 1), new persons 2 (P1 twice, P2);
      domains elderly 2, poverty 1, disability 1, cross-domain 1; tag 8050 1; routes self 2, family 1;
      plans made 1 (May), approved 1 (May); suspended 1 (Sep, reason 転居), closed 0;
      outreach 2 (Jul), failed 1, outreach cases 1; contacts window A 3, window B 0;
      referrals sent 2 (Aug; inter-agency 1, participation 1), accepted 2, completed 0, median 3.0 days;
      participation persons 1, visits 1 (Aug); layered meeting held 1 (Oct), cases 2, items 2; support 0;
      meeting workload municipal 1, coordinator 1; places active 1, accepting 1, new 1 (Apr).
    """
    p = personas
    p1, p2, p3 = PersonFactory(family_name="一"), PersonFactory(family_name="二"), PersonFactory(family_name="三")
    case_before = make_case(lead_organization=p.window_a, by=p.caseworker_a, persons=[p3], opened_on=date(2025, 3, 31))
    case1 = make_case(
        lead_organization=p.window_a,
        by=p.caseworker_a,
        persons=[p1],
        domains=("elderly", "poverty"),
        tags=("8050",),
        opened_on=date(2025, 4, 1),
    )
    case2 = make_case(lead_organization=p.window_a, by=p.caseworker_a, persons=[p1], opened_on=date(2025, 6, 10))
    case3 = make_case(
        lead_organization=p.window_b,
        by=p.caseworker_b,
        persons=[p2],
        domains=("disability",),
        opened_on=date(2026, 3, 31),
    )
    Case.objects.filter(pk=case3.pk).update(intake_route="family")

    from casework.services.cases import case_transition
    from casework.services.plans import contact_record_create, plan_approve, plan_create

    plan = plan_create(case=case1, goals="生活の安定", by=p.caseworker_a)
    plan_approve(plan=plan, by=p.caseworker_a, approved_on=date(2025, 5, 20))
    SupportPlan.objects.filter(pk=plan.pk).update(created_at=jst(2025, 5, 1, 10))

    case_transition(case=case2, to_state="suspended", by=p.caseworker_a, reason="転居")
    CaseTransition.objects.filter(case=case2).update(at=jst(2025, 9, 1, 10))
    # Approving the plan moved nothing (the case was at intake); its transitions stay out of 年度 2025.
    CaseTransition.objects.filter(case=case1).update(at=jst(2024, 4, 1, 10))

    for when, kind, outreach in (
        (jst(2025, 7, 1, 10), "visit", True),
        (jst(2025, 7, 2, 10), "absent", True),
        (jst(2025, 7, 3, 10), "interview", False),
    ):
        contact_record_create(
            case=case1, occurred_at=when, kind=kind, summary="記録", by=p.caseworker_a, is_outreach=outreach
        )

    from referrals import services as rs

    inter = make_referral(case=case1, by=p.caseworker_a, sender=p.window_a, receiver=p.window_b)
    rs.referral_move(move="accept", referral=inter, by=p.caseworker_b)
    Referral.objects.filter(pk=inter.pk).update(sent_at=jst(2025, 8, 1, 9), responded_at=jst(2025, 8, 4, 9))
    _backdate_transitions(inter, jst(2025, 8, 4, 9))

    part = make_referral(kind="participation", case=case1, by=p.caseworker_a, sender=p.window_a, place=place)
    rs.referral_move(move="accept", referral=part, by=p.place_staff)
    # Backdated before the 見学 is recorded: nothing is recorded before the day a referral was sent.
    Referral.objects.filter(pk=part.pk).update(sent_at=jst(2025, 8, 5, 9), responded_at=jst(2025, 8, 8, 9))
    rs.participation_stage_record(referral=part, stage="visit", on=date(2025, 8, 10), by=p.place_staff)
    _backdate_transitions(part, jst(2025, 8, 8, 9))
    Place.objects.filter(pk=place.pk).update(created_at=jst(2025, 4, 1, 0, 30))

    layered = Meeting.objects.create(
        kind="layered_meeting",
        title="第3回 重層的支援会議",
        starts_at=jst(2025, 10, 1, 14),
        convened_by=p.municipal,
        chair=p.chair,
        created_by=p.chair,
        status="concluded",
    )
    MeetingParticipant.objects.create(meeting=layered, user=p.chair, organization=p.municipal)
    MeetingParticipant.objects.create(meeting=layered, user=p.coordinator, organization=p.coordinator_org)
    for case in (case1, case3):
        AgendaItem.objects.create(meeting=layered, case=case, purpose="progress_review", added_by=p.chair)
    # Scheduled, not held: it counts nowhere.
    Meeting.objects.create(
        kind="support_meeting",
        title="支援会議（予定）",
        starts_at=jst(2025, 11, 1, 14),
        convened_by=p.municipal,
        chair=p.chair,
        created_by=p.chair,
    )
    # The screens read the stored aggregates: count them as the daily job would, now that the data is in.
    from indicators.services import aggregates_refresh

    aggregates_refresh()
    return World(p, case_before, case1, case2, case3, inter, part, layered, Place.objects.get(pk=place.pk))
