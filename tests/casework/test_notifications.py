"""お知らせ: each event writes exactly one notification per recipient, in the event's transaction."""

from __future__ import annotations

import datetime
from collections import Counter

import pytest
from django.db import transaction
from django.urls import reverse

from casework.models import Consent, Notification, NotificationKind
from casework.notifications import selectors
from casework.services.cases import case_team_remove
from casework.services.consent import consent_withdraw
from casework.viewers import Viewer
from referrals import services as rs
from tests.factories import add_to_team, give_sharing_consent, make_referral

pytestmark = pytest.mark.django_db


def _received(kind=None) -> Counter:
    rows = Notification.objects.all()
    if kind:
        rows = rows.filter(kind=kind)
    return Counter(rows.values_list("user__username", flat=True))


@pytest.fixture
def inter(personas, case_a):
    return make_referral(case=case_a, by=personas.caseworker_a, sender=personas.window_a, receiver=personas.window_b)


@pytest.fixture
def participation(personas, case_a, place):
    return make_referral(
        kind="participation", case=case_a, by=personas.caseworker_a, sender=personas.window_a, place=place
    )


def test_a_sent_referral_notifies_the_receiving_organization_only(inter):
    assert _received() == Counter({"cw_b": 1})
    row = Notification.objects.get()
    assert row.kind == NotificationKind.REFERRAL_RECEIVED and row.organization_id == inter.receiver_organization_id
    assert row.case_id is None  # the receiver reaches the case only through its own basis
    assert row.url == inter.get_absolute_url()


@pytest.mark.parametrize(
    ("move", "kind"),
    [
        ("accept", NotificationKind.REFERRAL_ACCEPTED),
        ("reject", NotificationKind.REFERRAL_REJECTED),
        ("return", NotificationKind.REFERRAL_RETURNED),
    ],
)
def test_the_receivers_answer_notifies_the_sender_and_its_worker_once(personas, inter, move, kind):
    Notification.objects.all().delete()
    rs.referral_move(referral=inter, move=move, by=personas.caseworker_b, reason="理由")
    # The sending worker and the rest of her organization (the supervisor), once each; never the actor.
    assert _received(kind) == Counter({"cw_a": 1, "sv_a": 1})


def test_a_place_recording_a_visit_attendance_and_feedback_notifies_the_sender(personas, participation):
    Notification.objects.all().delete()
    rs.referral_move(referral=participation, move="accept", by=personas.place_staff)
    today = datetime.date.today()
    rs.participation_stage_record(referral=participation, stage="visit", on=today, by=personas.place_staff)
    rs.referral_attendance_record(referral=participation, on=today, status="attended", by=personas.place_staff)
    rs.referral_note_add(referral=participation, text="楽しそうに参加されていました", by=personas.place_staff)
    for kind in (
        NotificationKind.REFERRAL_ACCEPTED,
        NotificationKind.STAGE_RECORDED,
        NotificationKind.ATTENDANCE_RECORDED,
        NotificationKind.FEEDBACK_RECORDED,
    ):
        assert _received(kind) == Counter({"cw_a": 1, "sv_a": 1}), kind
    assert "place" not in _received()
    # No name, no card content in what is stored.
    for row in Notification.objects.all():
        assert "たろう" not in row.summary and "楽しそう" not in row.summary


def test_the_senders_note_notifies_the_place(personas, participation):
    Notification.objects.all().delete()
    rs.referral_move(referral=participation, move="accept", by=personas.place_staff)
    Notification.objects.all().delete()
    rs.referral_note_add(referral=participation, text="よろしくお願いします", by=personas.caseworker_a)
    assert _received() == Counter({"place": 1})


def test_team_changes_notify_the_organization_concerned(personas, case_a):
    give_sharing_consent(case_a, organization=personas.window_b, by=personas.caseworker_a)
    add_to_team(case_a, personas.window_b, by=personas.caseworker_a)
    assert _received(NotificationKind.TEAM_ADDED) == Counter({"cw_b": 1})
    case_team_remove(case=case_a, organization=personas.window_b, by=personas.caseworker_a, reason="終結")
    assert _received(NotificationKind.TEAM_REMOVED) == Counter({"cw_b": 1})
    removed = Notification.objects.get(kind=NotificationKind.TEAM_REMOVED)
    assert case_a.number not in removed.summary and removed.case_id is None


def test_a_notification_written_in_a_transaction_that_rolls_back_does_not_exist(personas, case_a):
    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        make_referral(case=case_a, by=personas.caseworker_a, sender=personas.window_a, receiver=personas.window_b)
        assert Notification.objects.count() == 1
        raise Abort
    assert Notification.objects.count() == 0


def test_the_case_number_shows_only_while_the_basis_holds(personas, case_a):
    give_sharing_consent(case_a, organization=personas.window_b, by=personas.caseworker_a)
    add_to_team(case_a, personas.window_b, by=personas.caseworker_a)
    viewer = Viewer(personas.caseworker_b)
    (row,) = selectors.notifications_for(viewer)
    assert row.visible and row.case_number == case_a.number
    for consent in Consent.objects.filter(case=case_a, status=Consent.Status.GIVEN):
        consent_withdraw(consent=consent, withdrawn_on=datetime.date.today(), by=personas.caseworker_a)
    (row, *_rest) = [r for r in selectors.notifications_for(viewer) if r.notification.kind == "team_added"]
    assert not row.visible and row.case_number == ""


def test_the_badge_the_list_and_mark_read(personas, login, inter):
    client = login(personas.caseworker_b)
    home = client.get(reverse("home")).content.decode()
    assert "data-unread>1<" in home
    page = client.get(reverse("casework:notifications"))
    assert page.status_code == 200 and "紹介の受信" in page.content.decode()
    assert client.get(reverse("casework:notification_count")).json() == {"unread": 1}
    row = Notification.objects.get()
    response = client.post(reverse("casework:notification_open", args=[row.pk]))
    assert response.status_code == 302 and response["Location"] == inter.get_absolute_url()
    assert client.get(reverse("casework:notification_count")).json() == {"unread": 0}


def test_someone_elses_notification_is_not_found(personas, login, inter):
    row = Notification.objects.get()
    response = login(personas.caseworker_a).post(reverse("casework:notification_open", args=[row.pk]))
    assert response.status_code == 404
    assert Notification.objects.get().read_at is None


def test_mark_all_read(personas, login, inter):
    client = login(personas.caseworker_b)
    client.post(reverse("casework:notification_read_all"))
    assert selectors.unread_count(personas.caseworker_b) == 0
