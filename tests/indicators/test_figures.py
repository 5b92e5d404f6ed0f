"""Known answers for every figure of the yearly report, 年度 boundaries, 実人数 vs 延べ, organization scope."""

from datetime import date

import pytest

from casework.indicators import Period, Scope
from casework.services.plans import contact_record_create
from indicators.report import build_report, find_figure
from tests.indicators.conftest import FY, jst

pytestmark = pytest.mark.django_db

APR, MAY, JUN, JUL, AUG, SEP, OCT, NOV, DEC, JAN, FEB, MAR = range(12)


def figures(report) -> dict:
    return {row.key: row.counts for b in report.businesses for g in b.groups for row in g.rows}


def months(**values) -> list[int]:
    index = {"apr": APR, "may": MAY, "jun": JUN, "jul": JUL, "aug": AUG, "sep": SEP, "oct": OCT, "mar": MAR}
    result = [0] * 12
    for name, value in values.items():
        result[index[name]] = value
    return result


def test_every_municipal_figure_has_its_known_answer(world):
    p = world.personas
    report = build_report(FY, Scope())
    f = figures(report)
    expected = {
        "casework.new_cases": (3, months(apr=1, jun=1, mar=1)),
        "casework.new_persons": (2, months(apr=1, jun=1, mar=1)),
        "casework.domain.elderly": (2, months(apr=1, jun=1)),
        "casework.domain.poverty": (1, months(apr=1)),
        "casework.domain.disability": (1, months(mar=1)),
        "casework.domain.child": (0, months()),
        "casework.cross_domain": (1, months(apr=1)),
        "casework.tag.8050": (1, months(apr=1)),
        "casework.tag.double_care": (0, months()),
        "casework.route.self": (2, months(apr=1, jun=1)),
        "casework.route.family": (1, months(mar=1)),
        "casework.plans_made": (1, months(may=1)),
        "casework.plans_approved": (1, months(may=1)),
        "casework.suspended": (1, months(sep=1)),
        "casework.closed": (0, months()),
        "casework.outreach": (2, months(jul=2)),
        "casework.outreach_failed": (1, months(jul=1)),
        "casework.outreach_cases": (1, months(jul=1)),
        f"casework.contacts.org{p.window_a.pk}": (3, months(jul=3)),
        f"casework.contacts.org{p.window_b.pk}": (0, months()),
        "referrals.sent": (2, months(aug=2)),
        "referrals.sent.inter_agency": (1, months(aug=1)),
        "referrals.sent.participation": (1, months(aug=1)),
        "referrals.sent.tsunagi": (0, months()),
        "referrals.accepted": (2, months(aug=2)),
        "referrals.completed": (0, months()),
        "referrals.participation.persons": (1, months(aug=1)),
        "referrals.participation.sent": (1, months(aug=1)),
        "referrals.stage.visit": (1, months(aug=1)),
        "referrals.stage.trial": (0, months()),
        "referrals.stage.regular": (0, months()),
        "meetings.layered_meeting.held": (1, months(oct=1)),
        "meetings.layered_meeting.cases": (2, months(oct=2)),
        "meetings.layered_meeting.items": (2, months(oct=2)),
        "meetings.support_meeting.held": (0, months()),
        f"meetings.workload.org{p.municipal.pk}": (1, months(oct=1)),
        f"meetings.workload.org{p.coordinator_org.pk}": (1, months(oct=1)),
        f"meetings.workload.org{p.window_a.pk}": (0, months()),
        "places.new": (1, months(apr=1)),
    }
    for key, (total, by_month) in expected.items():
        assert (f[key].total, f[key].months) == (total, by_month), key
    assert f["places.active"].total == 1
    assert f["places.accepting"].total == 1
    assert report.median_response_days == 3.0
    assert report.label == "令和7年度"


def test_it_counts_a_repeat_consultation_once_as_a_person_and_twice_as_consultations(world):
    f = figures(build_report(FY, Scope(world.personas.window_a)))
    assert f["casework.new_cases"].total == 2
    assert f["casework.new_persons"].total == 1


def test_march_31_belongs_to_the_old_year_and_april_1_to_the_new(world):
    p = world.personas
    for when in (jst(2026, 3, 31, 23, 30), jst(2026, 4, 1, 0, 10)):
        contact_record_create(
            case=world.case1, occurred_at=when, kind="absent", summary="不在", by=p.caseworker_a, is_outreach=True
        )
    old, new = figures(build_report(FY, Scope())), figures(build_report(FY + 1, Scope()))
    assert old["casework.outreach"].total == 3
    assert old["casework.outreach"].months[MAR] == 1
    assert new["casework.outreach"].total == 1
    assert new["casework.outreach"].months[APR] == 1
    # Cases: opened 2025-03-31 is in 年度 2024, 2025-04-01 and 2026-03-31 in 年度 2025.
    assert figures(build_report(FY - 1, Scope()))["casework.new_cases"].total == 1
    assert Period(FY).first_day == date(2025, 4, 1)
    assert Period(FY).last_day == date(2026, 3, 31)
    assert Period(FY, 2).last_day == date(2026, 2, 28)


def test_a_window_sees_cases_it_leads_or_joined_and_its_own_referrals_and_meetings(world):
    p = world.personas
    a = figures(build_report(FY, Scope(p.window_a)))
    b = figures(build_report(FY, Scope(p.window_b)))
    coordinator = figures(build_report(FY, Scope(p.coordinator_org)))
    # Window B leads case3 and joined case1's team when it accepted the referral.
    assert b["casework.new_cases"].total == 2
    assert b["casework.new_persons"].total == 2
    assert a["casework.outreach"].total == 2
    assert b["casework.outreach"].total == 2
    assert a["referrals.sent"].total == 2
    assert b["referrals.sent"].total == 1
    assert a["meetings.layered_meeting.held"].total == 0
    assert coordinator["meetings.layered_meeting.held"].total == 1
    assert coordinator["casework.new_cases"].total == 0
    assert f"casework.contacts.org{p.window_b.pk}" not in a


def test_a_figure_lists_the_records_behind_it(world):
    figure = find_figure("casework.new_cases", FY, Scope())
    assert figure.record_ids() == sorted([world.case1.pk, world.case2.pk, world.case3.pk])
    assert figure.record_ids(6) == [world.case2.pk]
    assert find_figure("referrals.accepted", FY, Scope()).record_ids() == sorted(
        [world.inter_agency.pk, world.participation.pk]
    )
    assert find_figure("meetings.layered_meeting.held", FY, Scope()).record_ids() == [world.layered.pk]
    assert find_figure("no.such.figure", FY, Scope()) is None


def test_the_report_takes_a_constant_number_of_queries(world, django_assert_max_num_queries):
    with django_assert_max_num_queries(70):
        build_report(FY, Scope())


@pytest.mark.parametrize("scope_of", [None, "window_a", "window_b"])
def test_figures_counted_together_equal_a_recount_of_each(world, scope_of):
    """The figures read in one GROUP BY (precomputed) equal counting each figure's own records again."""
    from dataclasses import replace

    scope = Scope(getattr(world.personas, scope_of) if scope_of else None)
    together = [row.figure for b in build_report(FY, scope).businesses for g in b.groups for row in g.rows]
    checked = 0
    for figure in together:
        if figure.precomputed is None or not figure.monthly:
            continue
        assert figure.counts() == replace(figure, precomputed=None).counts(), figure.key
        checked += 1
    from casework.choices import Domain

    assert checked >= len(Domain.choices)


def test_the_dashboard_builds_each_drill_link_once_per_figure(world, login):
    """The 13 links of a row share one reverse(): the page shows the same links as before."""
    from django.urls import reverse

    page = login(world.personas.chair).get(reverse("indicators:dashboard"), {"fy": FY}).content.decode()
    drill = reverse("indicators:drill", args=["casework.new_cases"])
    assert f'href="{drill}?fy=' in page and "&amp;month=" in page
