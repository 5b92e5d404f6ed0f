"""人事異動: a leaving worker's open cases, referrals, action items and meeting seats move in one transaction."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from casework.choices import Role
from casework.models import AccessLog, Case, Notification, NotificationKind, WorkerHandover, WorkerHandoverItem
from casework.services import handover as handover_service
from casework.services.handover import worker_handover
from meetings.models import ActionItem, AgendaItem, MeetingParticipant
from referrals.models import Referral
from tests.factories import MembershipFactory, UserFactory, make_case, make_meeting, make_referral

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(personas):
    """Caseworker A carries two cases, a referral, an action item and a meeting seat; a colleague joins window A."""
    colleague = MembershipFactory(
        user=UserFactory(username="cw_a2", last_name="小川", first_name="春子"),
        organization=personas.window_a,
        role=Role.CASEWORKER,
    ).user
    cw = personas.caseworker_a
    case1 = make_case(lead_organization=personas.window_a, by=cw)
    case2 = make_case(lead_organization=personas.window_a, by=cw, family_name="森")
    referral = make_referral(case=case1, by=cw, sender=personas.window_a, receiver=personas.window_b)
    meeting = make_meeting(chair=personas.chair, participants=[cw], convened_by=personas.municipal)
    agenda = AgendaItem.objects.create(
        meeting=meeting, case=case1, purpose="information_sharing", added_by=personas.chair
    )
    action = ActionItem.objects.create(item=agenda, organization=personas.window_a, assignee=cw, text="訪問する")
    return {
        "colleague": colleague,
        "cases": [case1, case2],
        "referral": referral,
        "meeting": meeting,
        "action": action,
    }


def test_everything_moves_at_once_with_history_and_log(personas, world):
    colleague = world["colleague"]
    done = worker_handover(
        organization=personas.window_a,
        leaving=personas.caseworker_a,
        note="4月1日付の人事異動",
        by=personas.supervisor_a,
        default_to=colleague,
    )
    for case in world["cases"]:
        case.refresh_from_db()
        assert case.lead_worker == colleague
    assert Referral.objects.get(pk=world["referral"].pk).sender_user == colleague
    assert ActionItem.objects.get(pk=world["action"].pk).assignee == colleague
    seats = MeetingParticipant.objects.filter(meeting=world["meeting"], removed_at__isnull=True)
    assert colleague.pk in {s.user_id for s in seats} and personas.caseworker_a.pk not in {s.user_id for s in seats}
    kinds = sorted(done.items.values_list("kind", flat=True))
    assert kinds == ["action", "case", "case", "meeting", "referral"]
    assert set(WorkerHandoverItem.objects.filter(kind="case").values_list("case_id", flat=True)) == {
        c.pk for c in world["cases"]
    }
    rows = AccessLog.objects.filter(action=AccessLog.Action.HANDOVER)
    assert rows.count() == 6 and set(rows.values_list("actor", flat=True)) == {personas.supervisor_a.pk}


def test_one_refusal_moves_nothing(personas, world, monkeypatch):
    colleague = world["colleague"]

    def fail(*args, **kwargs):
        raise ValidationError("対応事項の引継ぎに失敗しました。")

    patched = [
        handover_service.HandoverSource(s.kind, s.title, s.items, fail if s.kind == "action" else s.reassign, s.order)
        for s in handover_service.HANDOVER_SOURCES
    ]
    monkeypatch.setattr(handover_service, "HANDOVER_SOURCES", patched)
    with pytest.raises(ValidationError):
        worker_handover(
            organization=personas.window_a,
            leaving=personas.caseworker_a,
            note="異動",
            by=personas.supervisor_a,
            default_to=colleague,
        )
    assert set(Case.objects.values_list("lead_worker", flat=True)) == {personas.caseworker_a.pk}
    assert Referral.objects.get(pk=world["referral"].pk).sender_user == personas.caseworker_a
    assert not WorkerHandover.objects.exists()
    assert not AccessLog.objects.filter(action=AccessLog.Action.HANDOVER).exists()
    assert not Notification.objects.filter(kind=NotificationKind.HANDOVER_RECEIVED).exists()


def test_each_new_worker_is_told_how_many_items_they_received(personas, world):
    colleague = world["colleague"]
    third = MembershipFactory(
        user=UserFactory(username="cw_a3", last_name="大野", first_name="夏美"),
        organization=personas.window_a,
        role=Role.CASEWORKER,
    ).user
    case2 = world["cases"][1]
    worker_handover(
        organization=personas.window_a,
        leaving=personas.caseworker_a,
        note="4月1日付の人事異動",
        by=personas.supervisor_a,
        default_to=colleague,
        assignments={f"case:{case2.pk}": third},
    )
    told = {n.user_id: n for n in Notification.objects.filter(kind=NotificationKind.HANDOVER_RECEIVED)}
    assert set(told) == {colleague.pk, third.pk}
    assert "4件" in told[colleague.pk].summary and "1件" in told[third.pk].summary
    assert personas.window_a.name in told[third.pk].summary
    # No person's name and no case number in the summary; the link is the new worker's own case list.
    assert case2.number not in told[third.pk].summary and "森" not in told[third.pk].summary
    assert told[third.pk].url == "/cases/mine/"


def test_only_colleagues_receive_and_only_supervisors_or_administrators_hand_over(personas, world):
    kwargs = {"organization": personas.window_a, "leaving": personas.caseworker_a, "note": "異動"}
    with pytest.raises(ValidationError, match="この機関の職員ではない"):
        worker_handover(**kwargs, by=personas.supervisor_a, default_to=personas.caseworker_b)
    with pytest.raises(ValidationError, match="引継ぎ先が選ばれていない"):
        worker_handover(**kwargs, by=personas.supervisor_a)
    with pytest.raises(ValidationError, match="メモ"):
        worker_handover(**{**kwargs, "note": "  "}, by=personas.supervisor_a, default_to=world["colleague"])
    for outsider in (personas.caseworker_a, personas.caseworker_b, personas.chair):
        with pytest.raises(PermissionDenied):
            worker_handover(**kwargs, by=outsider, default_to=world["colleague"])
    assert set(Case.objects.values_list("lead_worker", flat=True)) == {personas.caseworker_a.pk}
    # The administrator may (and sees no names on the screen).
    worker_handover(**kwargs, by=personas.administrator, default_to=world["colleague"])
    assert set(Case.objects.values_list("lead_worker", flat=True)) == {world["colleague"].pk}


def test_the_screen_assigns_each_or_all_and_refuses_a_stale_list(personas, world, login):
    colleague = world["colleague"]
    sv = login(personas.supervisor_a)
    url = f"/staff/handover/?worker={personas.caseworker_a.pk}"
    page = sv.get(url).content.decode()
    case1, case2 = world["cases"]
    assert case1.number in page and case2.number in page and "5 件をまとめて引き継ぐ" in page
    assert world["meeting"].title in page
    # No names of the persons the cases are about.
    assert case1.subject_rows.first().person.family_name not in page
    listed = AccessLog.objects.filter(object_type="handover", action=AccessLog.Action.LIST).get()
    assert f"cases={min(case1.pk, case2.pk)},{max(case1.pk, case2.pk)}" in listed.reason

    shown = f"case:{case1.pk},case:{case2.pk},referral:{world['referral'].pk},action:{world['action'].pk}"
    stale = sv.post(
        "/staff/handover/",
        {"worker": personas.caseworker_a.pk, "note": "異動", "all_to": colleague.pk, "shown": shown},
    )
    assert stale.status_code == 200 and "もう一度一覧を確認" in stale.content.decode()
    assert not WorkerHandover.objects.exists()

    seat = MeetingParticipant.objects.get(meeting=world["meeting"], user=personas.caseworker_a)
    shown += f",meeting:{seat.pk}"
    response = sv.post(
        "/staff/handover/",
        {
            "worker": personas.caseworker_a.pk,
            "note": "4月1日付の人事異動",
            "all_to": colleague.pk,
            f"to_case_{case2.pk}": personas.supervisor_a.pk,
            "shown": shown,
        },
    )
    assert response.status_code == 302
    case1.refresh_from_db()
    case2.refresh_from_db()
    assert case1.lead_worker == colleague and case2.lead_worker == personas.supervisor_a
    history = login(personas.caseworker_a).get(f"/cases/{case2.pk}/")
    assert history.status_code == 200 or history.status_code == 404  # the leaving worker may still read it
    detail = sv.get(f"/cases/{case2.pk}/").content.decode()
    assert "担当者の引継ぎ" in detail and "4月1日付の人事異動" in detail


def test_the_screen_is_for_supervisors_and_administrators(personas, world, login):
    assert login(personas.caseworker_a).get("/staff/handover/").status_code == 404
    assert login(personas.caseworker_b).get("/staff/handover/").status_code == 404
    admin = login(personas.administrator).get(f"/staff/handover/?organization={personas.window_a.pk}")
    assert admin.status_code == 200 and "佐藤" in admin.content.decode()
    # A supervisor of window A cannot hand over window B's workers.
    other = login(personas.supervisor_a).get(
        f"/staff/handover/?organization={personas.window_b.pk}&worker={personas.caseworker_b.pk}"
    )
    assert personas.caseworker_b.last_name not in other.content.decode().split("異動・退職する職員")[-1]
