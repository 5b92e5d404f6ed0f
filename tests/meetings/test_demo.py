"""seed_demo creates the demo meetings once, with consented cases on the 重層的支援会議's agenda."""

import pytest
from django.core.management import call_command

from meetings.demo import LAYERED_TITLE, PREVIOUS_TITLE, SUPPORT_TITLE
from meetings.models import ActionItem, AgendaItem, Meeting, MeetingStatus

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


def test_seed_demo_leaves_open_action_items_from_a_past_meeting_with_locked_minutes():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    previous = Meeting.objects.get(title=PREVIOUS_TITLE)
    assert previous.status == MeetingStatus.MINUTES_LOCKED
    actions = list(ActionItem.objects.filter(item__meeting=previous).select_related("organization"))
    assert {a.organization.name for a in actions} == {"自立相談支援機関 くらしサポート", "こども家庭センター"}
    assert [a.text for a in actions if a.overdue] == ["家計改善支援の面談を設定する"]
