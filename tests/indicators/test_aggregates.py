"""The stored aggregates equal a recount from the raw rows: on the known world, the demo and random worlds."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casework.indicators import Scope, scoped_organization_ids
from casework.models import Case, CaseDomain, CaseTeamMembership, CaseTransition, ContactRecord, Organization
from core.japanese import fiscal_year
from indicators.models import AggregateRun, FigureCount
from indicators.report import build_report
from indicators.selectors import stored_report
from indicators.services import aggregates_refresh
from meetings.models import Meeting, MeetingParticipant
from referrals.models import Referral, ReferralTransition
from tests.indicators.conftest import FY

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("indicators:dashboard")
REFRESH = reverse("indicators:refresh")


def table(report) -> dict:
    """Every figure's (total, months), plus the median, of a report."""
    values = {
        row.key: (row.counts.total, list(row.counts.months))
        for business in report.businesses
        for group in business.groups
        for row in group.rows
    }
    values["median_response_days"] = report.median_response_days
    return values


def assert_stored_equals_recount(years) -> int:
    """Compare the stored report with the live recount for every 年度 and scope; return the figures compared."""
    organizations = {o.pk: o for o in Organization.objects.filter(pk__in=scoped_organization_ids())}
    compared = 0
    for fy in years:
        for org in [None, *organizations.values()]:
            scope = Scope(org)
            stored, recount = table(stored_report(fy, scope)), table(build_report(fy, scope))
            assert stored == recount, (
                fy,
                org,
                {k: (stored.get(k), v) for k, v in recount.items() if stored.get(k) != v},
            )
            compared += len(recount)
    return compared


def test_the_known_worlds_stored_figures_equal_the_recount_for_every_scope(world):
    assert assert_stored_equals_recount([FY - 1, FY, FY + 1]) > 100
    assert (
        FigureCount.objects.filter(fiscal_year=FY, organization=None, figure="casework.new_cases", month=0).get().value
        == 3
    )


def test_the_demo_datas_stored_figures_equal_the_recount():
    call_command("seed_demo", stdout=io.StringIO())
    aggregates_refresh()
    years = {fiscal_year(d) for d in Case.objects.values_list("opened_on", flat=True)}
    years |= {fiscal_year(timezone.localdate()), fiscal_year(timezone.localdate()) - 1}
    assert FigureCount.objects.exists()
    assert assert_stored_equals_recount(sorted(years)) > 100


def test_the_refresh_reads_each_source_table_once(world, django_assert_max_num_queries):
    # organizations, teams, domains, subjects, cases, plans, moves, contacts, meetings, participants, items,
    # referrals, referral moves, stages, attendance, places; then the lock, delete, insert and the run.
    with django_assert_max_num_queries(24):
        aggregates_refresh()


def test_the_dashboard_reads_the_stored_figures_and_says_when_they_were_counted(world, login):
    client = login(world.personas.chair)
    Case.objects.filter(pk=world.case1.pk).update(opened_on=date(FY, 5, 1))  # after the count: not shown yet
    page = client.get(DASHBOARD, {"fy": FY})
    body = page.content.decode()
    assert "集計日時" in body and "集計を更新する" in body
    row = next(
        r for b in page.context["report"].businesses for g in b.groups for r in g.rows if r.key == "casework.new_cases"
    )
    assert row.counts.months[0] == 1  # April still holds case1, as counted
    aggregates_refresh()
    page = client.get(DASHBOARD, {"fy": FY})
    row = next(
        r for b in page.context["report"].businesses for g in b.groups for r in g.rows if r.key == "casework.new_cases"
    )
    assert row.counts.months[0] == 0 and row.counts.months[1] == 1


def test_the_dashboard_takes_few_queries_whatever_the_data(world, login, django_assert_max_num_queries):
    client = login(world.personas.chair)
    with django_assert_max_num_queries(30):
        client.get(DASHBOARD, {"fy": FY})


def test_a_refresh_asked_on_the_dashboard_is_queued_once_and_runs_on_a_worker(world, login):
    from django_tasks_db.models import DBTaskResult

    client = login(world.personas.chair)
    before = DBTaskResult.objects.count()
    response = client.post(f"{REFRESH}?fy={FY}")
    assert response.status_code == 302 and response["Location"].startswith(DASHBOARD)
    client.post(f"{REFRESH}?fy={FY}")
    assert DBTaskResult.objects.count() == before + 1  # the second asks for the refresh already waiting
    page = client.get(DASHBOARD, {"fy": FY}).content.decode()
    assert "集計の更新を待っています" in page
    from indicators.tasks import refresh_aggregates_job

    waiting = AggregateRun.objects.get(finished_at__isnull=True)
    refresh_aggregates_job.call(waiting.pk)
    waiting.refresh_from_db()
    assert waiting.ok and waiting.requested_by == world.personas.chair
    assert "集計の更新を待っています" not in client.get(DASHBOARD, {"fy": FY}).content.decode()


@pytest.mark.parametrize("name", ["place_staff", "auditor"])
def test_a_refresh_is_404_to_those_without_the_dashboard(world, login, name):
    assert login(getattr(world.personas, name)).post(REFRESH).status_code == 404
    assert not AggregateRun.objects.filter(finished_at__isnull=True).exists()


def test_a_get_of_the_refresh_is_not_allowed(world, login):
    assert login(world.personas.chair).get(REFRESH).status_code == 405


def test_the_daily_job_is_registered_and_replaces_the_counts(world):
    from casework.scheduling import DAILY_JOBS

    rows = FigureCount.objects.count()
    assert "件の集計値を保存しました" in DAILY_JOBS["indicator_aggregates"].run(timezone.localdate())
    assert FigureCount.objects.count() == rows  # idempotent: replaced, not added


# ---------------------------------------------------------------------------
# Random worlds: the known world's rows moved to random dates, organizations and states
# ---------------------------------------------------------------------------

BOUNDARY = timezone.make_aware(datetime(FY, 4, 1))  # 0:00 JST on the first day of the 年度


def instants():
    """Datetimes around the 年度 boundaries (a minute either side of midnight JST included)."""
    return st.sampled_from([-1, 0, 1, 60, 365 * 24 * 60 - 1, 365 * 24 * 60, -60 * 24 * 30]).map(
        lambda minutes: BOUNDARY + timedelta(minutes=minutes)
    ) | st.integers(-400, 800).map(lambda days: BOUNDARY + timedelta(days=days, hours=9))


def days():
    return st.integers(-400, 800).map(lambda n: date(FY, 4, 1) + timedelta(days=n))


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_worlds_stored_figures_equal_the_recount(world, data):
    p = world.personas
    orgs = [p.window_a, p.window_b, p.coordinator_org, p.municipal]
    org = st.sampled_from(orgs)
    for case in Case.objects.all():
        Case.objects.filter(pk=case.pk).update(
            opened_on=data.draw(days()),
            lead_organization=data.draw(org),
            intake_route=data.draw(st.sampled_from(["self", "family", "neighbor", "agency", "outreach"])),
        )
        for extra in data.draw(st.lists(org, max_size=2)):
            CaseTeamMembership.objects.get_or_create(case=case, organization=extra, defaults={"added_by": p.chair})
        for domain in data.draw(st.lists(st.sampled_from(["elderly", "child", "disability", "other"]), max_size=2)):
            CaseDomain.objects.get_or_create(case=case, domain=domain)
    for record in ContactRecord.objects.all():
        ContactRecord.objects.filter(pk=record.pk).update(
            occurred_at=data.draw(instants()),
            organization=data.draw(org),
            is_outreach=data.draw(st.booleans()),
            kind=data.draw(st.sampled_from(["visit", "absent", "refused", "phone"])),
        )
    for move in CaseTransition.objects.all():
        CaseTransition.objects.filter(pk=move.pk).update(
            at=data.draw(instants()),
            to_state=data.draw(st.sampled_from(["closed", "suspended", "in_support"])),
            decided_by_ref=data.draw(st.sampled_from(["", "meeting:1"])),
        )
    for referral in Referral.objects.all():
        sent = data.draw(instants())
        Referral.objects.filter(pk=referral.pk).update(
            sent_at=sent,
            responded_at=data.draw(
                st.none() | st.integers(0, 40).map(lambda n, sent=sent: sent + timedelta(hours=n * 7))
            ),
            sender_organization=data.draw(
                st.sampled_from([o for o in orgs if o.pk != referral.receiver_organization_id])
            ),
        )
    ReferralTransition.objects.filter(to_state="accepted").update(at=data.draw(instants()))
    for meeting in Meeting.objects.all():
        Meeting.objects.filter(pk=meeting.pk).update(
            starts_at=data.draw(instants()),
            status=data.draw(st.sampled_from(["scheduled", "in_session", "concluded", "minutes_locked"])),
            convened_by=data.draw(org),
        )
    MeetingParticipant.objects.filter(
        pk__in=data.draw(
            st.lists(st.sampled_from(list(MeetingParticipant.objects.values_list("pk", flat=True))), max_size=1)
        )
    ).update(removed_at=BOUNDARY)
    aggregates_refresh()
    assert_stored_equals_recount([FY - 1, FY, FY + 1])
