"""The demo seed creates realistic households and cases once, however often it runs."""

import io

import pytest
from django.core.management import call_command

from casework.models import AccessLog, Case, Household


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_creates_the_demo_households():
    call_command("seed_demo", stdout=io.StringIO())
    counts = (Case.objects.count(), Household.objects.count(), AccessLog.objects.count() > 0)
    call_command("seed_demo", stdout=io.StringIO())
    assert (Case.objects.count(), Household.objects.count(), True) == counts
    tags = {t for h in Household.objects.all() for t in h.tags}
    assert {"8050", "double_care", "young_carer"} <= tags
    assert len({c.state for c in Case.objects.all()}) >= 3


@pytest.mark.django_db
def test_the_demo_shows_a_lead_hand_over_with_the_old_lead_still_on_the_team():
    from casework.models import CaseLeadChange

    call_command("seed_demo", stdout=io.StringIO())
    change = CaseLeadChange.objects.select_related("case", "from_organization", "to_organization").get()
    assert change.case.lead_organization == change.to_organization
    assert change.case.team_rows.filter(organization=change.from_organization, ended_at__isnull=True).exists()
    assert change.reason


@pytest.mark.django_db
def test_a_retention_run_lists_the_demos_old_closed_case():
    from django.utils import timezone

    from casework.demo import OLD_CLOSED_HOUSEHOLD
    from casework.services.retention import retention_run

    call_command("seed_demo", stdout=io.StringIO())
    old = Case.objects.get(household__name=OLD_CLOSED_HOUSEHOLD)
    run = retention_run(timezone.localdate())
    listed = {(c.kind, c.object_id) for c in run.candidates.all()}
    assert ("closed_case", old.pk) in listed
    # The demo's recent closure is not due.
    assert {c.object_id for c in run.candidates.all()} == {old.pk}
