"""Refused referral actions go back to the referral page with what was typed and one message (core.refusals)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from places.models import Attendance
from referrals import services
from referrals.models import ReferralState
from tests.factories import make_referral
from tests.refusals import refused_page

pytestmark = pytest.mark.django_db


@pytest.fixture
def requested(personas, case_a, place):
    return make_referral(
        kind="participation", case=case_a, by=personas.caseworker_a, sender=personas.window_a, place=place
    )


@pytest.fixture
def accepted(personas, requested):
    return services.referral_move(move="accept", referral=requested, by=personas.place_staff)


def test_a_refused_stage_keeps_what_was_typed_at_the_referral_url(personas, accepted, login):
    client = login(personas.place_staff)
    response = client.post(
        reverse("referrals:stage", args=[accepted.pk]),
        {"stage": "visit", "on": "令和九十九年", "accompanied_by": "相談員の田中", "note": "緊張していた"},
    )
    html = refused_page(client, response, reverse("referrals:detail", args=[accepted.pk]))
    assert html.count('class="field-error"') == 1
    assert 'value="相談員の田中"' in html and 'value="緊張していた"' in html and 'value="令和九十九年"' in html
    assert not accepted.stages.exists()


def test_a_refused_note_keeps_the_text(personas, accepted, login):
    client = login(personas.place_staff)
    response = client.post(reverse("referrals:note", args=[accepted.pk]), {"text": "来週\x00から"})
    html = refused_page(client, response, reverse("referrals:detail", args=[accepted.pk]))
    assert html.count("使用できない文字") == 1


def test_a_refused_move_keeps_its_reason_in_its_own_form(personas, requested, login):
    referral = requested
    client = login(personas.place_staff)
    response = client.post(
        reverse("referrals:move", args=[referral.pk, "reject"]),
        {"version": referral.version, "reason": "定員のため\x07"},
    )
    html = refused_page(client, response, reverse("referrals:detail", args=[referral.pk]))
    form = html[html.index('id="move-reject"') :]
    form = form[: form.index("</form>")]
    assert form.count("使用できない文字") == 1 and "定員のため" in form
    referral.refresh_from_db()
    assert referral.state == ReferralState.REQUESTED


def test_a_refused_attendance_is_shown_once_and_nothing_is_recorded(personas, accepted, login):
    client = login(personas.place_staff)
    tomorrow = (timezone.localdate() + timezone.timedelta(days=30)).isoformat()
    response = client.post(
        reverse("referrals:attendance", args=[accepted.pk]), {"on": tomorrow, "status": "attended", "note": "元気"}
    )
    html = refused_page(client, response, reverse("referrals:detail", args=[accepted.pk]))
    assert 'value="元気"' in html
    assert not Attendance.objects.exists()
    # Shown once: a reload of the page is the plain page again.
    assert 'value="元気"' not in client.get(reverse("referrals:detail", args=[accepted.pk])).content.decode()
