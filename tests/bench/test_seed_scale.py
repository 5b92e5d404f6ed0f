"""seed_scale at a tiny scale: consistent rows, realistic grants and valid access-log chains (no timings)."""

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Count

from bench.seed_scale import SeedRefused, seed_checked
from casework.access import case_access, cases_for_user
from casework.audit import verify_day
from casework.choices import Role
from casework.models import (
    AccessLog,
    Case,
    CaseGroupObjectPermission,
    CaseState,
    CaseTeamMembership,
    Consent,
    Membership,
)
from casework.viewers import Viewer
from meetings.models import AgendaItem, Meeting, MeetingParticipant
from places.models import Place
from referrals.models import Referral, ReferralGroupObjectPermission, ReferralKind, ReferralState

OPEN = [CaseState.INTAKE, CaseState.ASSESSMENT, CaseState.PLANNING, CaseState.IN_SUPPORT]


@pytest.fixture
def seeded(db):
    seed_checked(scale=0.001, log=lambda *_: None)


def test_it_generates_the_minimum_sizes(seeded):
    assert Case.objects.count() == 25
    assert Case.objects.filter(state__in=OPEN).count() == 5
    assert Referral.objects.count() == 40
    assert Meeting.objects.count() == 4
    assert AgendaItem.objects.count() == 12
    assert AccessLog.objects.count() == 5000
    assert set(Referral.objects.values_list("state", flat=True)) >= {ReferralState.REQUESTED, ReferralState.COMPLETED}


def test_every_case_is_granted_to_its_team_and_has_consent(seeded):
    for case in Case.objects.prefetch_related("subject_rows"):
        team = set(
            CaseTeamMembership.objects.filter(case=case, ended_at__isnull=True).values_list(
                "organization__group", flat=True
            )
        )
        granted = set(
            CaseGroupObjectPermission.objects.filter(content_object=case, permission__codename="view_case").values_list(
                "group_id", flat=True
            )
        )
        assert case.lead_organization.group_id in team
        assert granted == team
        for row in case.subject_rows.all():
            assert Consent.objects.filter(person_id=row.person_id, case=case).exists()
        assert case.number.split("-")[0][:1] in "RH"


def test_a_seeded_caseworker_sees_exactly_their_organizations_cases(seeded):
    membership = Membership.objects.filter(role=Role.CASEWORKER).select_related("user", "organization").first()
    viewer = Viewer(membership.user)
    listed = set(cases_for_user(viewer))
    assert listed
    for case in Case.objects.all():
        assert (case in listed) == (case_access(viewer, case) is not None)


def test_referrals_are_granted_to_the_right_sides(seeded):
    for referral in Referral.objects.select_related("sender_organization", "receiver_organization", "place"):
        groups = set(
            ReferralGroupObjectPermission.objects.filter(content_object=referral).values_list("group_id", flat=True)
        )
        assert referral.sender_organization.group_id in groups
        assert (referral.receiver_organization.group_id in groups) == (referral.state != ReferralState.DRAFT)
        if referral.kind == ReferralKind.PARTICIPATION:
            assert referral.place.operator_id == referral.receiver_organization_id
        if referral.state == ReferralState.COMPLETED:
            assert referral.outcome


def test_meetings_have_their_chair_and_case_leads_as_participants(seeded):
    for meeting in Meeting.objects.annotate(n=Count("items")):
        users = set(MeetingParticipant.objects.filter(meeting=meeting).values_list("user_id", flat=True))
        assert meeting.chair_id in users
        assert meeting.n == 3
    assert Place.objects.filter(schedules__isnull=False).exists()


def test_every_access_log_day_verifies_and_live_writes_continue_the_chain(seeded):
    days = sorted(set(AccessLog.objects.values_list("day", flat=True)))
    assert len(days) >= 2
    for day in days:
        checked, problem = verify_day(day)
        assert problem is None
        assert checked == AccessLog.objects.filter(day=day).count()


def test_it_refuses_a_database_that_already_has_data(seeded):
    with pytest.raises(SeedRefused):
        seed_checked(scale=0.001, log=lambda *_: None)


def test_force_appends_and_keeps_the_chains_valid(seeded):
    seed_checked(scale=0.001, force=True, log=lambda *_: None)
    assert Case.objects.count() == 50
    assert get_user_model().objects.filter(username__startswith="bench").count() == 48
    for day in set(AccessLog.objects.values_list("day", flat=True)):
        assert verify_day(day)[1] is None
