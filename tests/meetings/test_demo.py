"""seed_demo creates the demo meetings once, with consented cases on the 重層的支援会議's agenda."""

import pytest
from django.core.management import call_command

from meetings.demo import LAYERED_TITLE, SUPPORT_TITLE
from meetings.models import AgendaItem, Meeting

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_the_meetings_once():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    counts = (Meeting.objects.count(), AgendaItem.objects.count())
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert (Meeting.objects.count(), AgendaItem.objects.count()) == counts
    layered = Meeting.objects.get(title=LAYERED_TITLE)
    assert layered.items.count() >= 2 and layered.chair.username == "city_yamamoto"
    support = Meeting.objects.get(title=SUPPORT_TITLE)
    pledges = dict(support.participants.values_list("user__username", "pledge_signed_on"))
    assert pledges["kodomo_tanaka"] is None and pledges["city_yamamoto"] is not None
