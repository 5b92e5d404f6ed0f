"""Decisions flow into casework: plans approved, cases closed or suspended with the meeting recorded."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from casework.models import CaseState, SupportPlan
from meetings import services as ms
from meetings.models import Decision, MeetingStatus

pytestmark = pytest.mark.django_db


def test_approving_the_plan_moves_the_case_to_in_support(personas, layered, case_a):
    item = layered.items.get()
    decision = ms.meeting_decide(item=item, kind="approve_plan", by=personas.chair)
    case_a.refresh_from_db()
    plan = case_a.plans.get()
    assert plan.status == SupportPlan.Status.APPROVED
    assert plan.approved_by_ref == f"meeting:{layered.pk}"
    assert case_a.state == CaseState.IN_SUPPORT
    transition = case_a.transitions.latest("id")
    assert transition.decided_by_ref == f"meeting:{layered.pk}" and layered.title in transition.decided_by_label
    assert decision.plan == plan and decision.result_ref == f"plan:{plan.pk}"


def test_closing_by_decision_records_the_meeting_as_deciding_body(personas, layered, case_a):
    item = layered.items.get()
    ms.meeting_decide(item=item, kind="approve_plan", by=personas.chair)
    decision = ms.meeting_decide(item=item, kind="close", text="目標を達成したため", by=personas.chair)
    case_a.refresh_from_db()
    assert case_a.state == CaseState.CLOSED
    transition = case_a.transitions.latest("id")
    assert transition.reason == "目標を達成したため" and transition.decided_by_ref == f"meeting:{layered.pk}"
    assert decision.result_ref == f"case_transition:{transition.pk}"


def test_closing_needs_a_reason_and_changes_nothing_without(personas, layered, case_a):
    item = layered.items.get()
    with pytest.raises(ValidationError):
        ms.meeting_decide(item=item, kind="suspend", text="", by=personas.chair)
    case_a.refresh_from_db()
    assert case_a.state == CaseState.PLANNING and not Decision.objects.exists()


def test_an_impossible_transition_is_a_message_not_a_crash(personas, layered, case_a, login):
    item = layered.items.get()
    client = login(personas.chair)
    response = client.post(
        reverse("meetings:decide", args=[layered.pk, item.pk]),
        {"kind": "close", "text": "理由", "confirm_early": "1"},
        follow=True,
    )
    assert response.status_code == 200
    assert "変更できません" in response.content.decode()
    case_a.refresh_from_db()
    assert case_a.state == CaseState.PLANNING


def test_suspending_by_decision(personas, layered, case_a):
    ms.meeting_decide(item=layered.items.get(), kind="suspend", text="本人の入院のため", by=personas.chair)
    case_a.refresh_from_db()
    assert case_a.state == CaseState.SUSPENDED


def test_actions_and_next_review_are_recorded_and_shown_on_the_case_panel(personas, layered, case_a, rf):
    from casework.viewers import Viewer
    from core.panels import case_panels

    item = layered.items.get()
    ms.meeting_decide(
        item=item,
        kind="action",
        text="就労準備支援につなぐ",
        actions=[{"organization": personas.window_b, "text": "就労準備支援につなぐ", "due_on": date(2030, 5, 1)}],
        by=personas.chair,
    )
    ms.meeting_decide(item=item, kind="next_review", next_review_on=date(2030, 6, 1), by=personas.chair)
    request = rf.get("/")
    request.user = personas.caseworker_a
    panels = case_panels(request, case_a, Viewer(personas.caseworker_a))
    panel = next(p for p in panels if p.template == "meetings/panels/case_history.html")
    history = panel.context["items"]
    assert history[0].actions.get().organization == personas.window_b
    assert history[0].decisions.filter(next_review_on=date(2030, 6, 1)).exists()


def test_the_decided_review_date_is_set_on_the_case_and_its_approved_plan(personas, layered, case_a):
    item = layered.items.get()
    ms.meeting_decide(item=item, kind="approve_plan", by=personas.chair)
    decision = ms.meeting_decide(item=item, kind="next_review", next_review_on=date(2030, 6, 1), by=personas.chair)
    case_a.refresh_from_db()
    plan = case_a.plans.get(status=SupportPlan.Status.APPROVED)
    assert case_a.next_review_on == date(2030, 6, 1) and plan.next_review_on == date(2030, 6, 1)
    assert decision.plan == plan


def test_a_review_date_for_a_closed_case_is_refused_and_changes_nothing(personas, layered, case_a):
    item = layered.items.get()
    ms.meeting_decide(item=item, kind="suspend", text="転居のため", by=personas.chair)
    with pytest.raises(ValidationError):
        ms.meeting_decide(item=item, kind="next_review", next_review_on=date(2030, 6, 1), by=personas.chair)
    case_a.refresh_from_db()
    assert case_a.next_review_on is None
    assert not Decision.objects.filter(kind="next_review").exists()


def test_a_secretary_writes_notes_and_a_stale_edit_is_refused_with_the_current_state(personas, layered):
    item = layered.items.get()
    saved = ms.agenda_item_note(item=item, notes="初回の記録", based_on_version=1, by=personas.coordinator)
    assert saved.version == 2
    with pytest.raises(ms.StaleEdit) as exc:
        ms.agenda_item_note(item=item, notes="古い版からの上書き", based_on_version=1, by=personas.chair)
    assert exc.value.version == 2 and exc.value.notes == "初回の記録"
    item.refresh_from_db()
    assert item.notes == "初回の記録"


def test_the_stale_notes_form_shows_both_versions(personas, layered, login):
    item = layered.items.get()
    ms.agenda_item_note(item=item, notes="先に保存された記録", based_on_version=1, by=personas.coordinator)
    response = login(personas.chair).post(
        reverse("meetings:notes", args=[layered.pk, item.pk]), {"notes": "私の記録", "based_on_version": 1}
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "先に保存された記録" in html and "私の記録" in html
    item.refresh_from_db()
    assert item.notes == "先に保存された記録"


def test_a_plain_participant_cannot_decide(personas, layered):
    with pytest.raises(PermissionError):
        ms.meeting_decide(item=layered.items.get(), kind="other", text="x", by=personas.caseworker_a)


def test_every_service_bumps_the_version(personas, layered):
    item = layered.items.get()
    v = layered.version
    ms.agenda_set_current(meeting=layered, item=item, by=personas.chair)
    ms.meeting_start(meeting=layered, by=personas.chair)
    ms.agenda_item_note(item=item, notes="x", based_on_version=item.version, by=personas.chair)
    layered.refresh_from_db()
    assert layered.version == v + 3


def test_locked_minutes_allow_no_further_change(personas, layered, login):
    item = layered.items.get()
    ms.meeting_start(meeting=layered, by=personas.chair)
    ms.meeting_decide(item=item, kind="other", text="情報共有のみ", by=personas.chair)
    with pytest.raises(ValidationError):
        ms.minutes_approve(meeting=layered, by=personas.chair)
    ms.meeting_conclude(meeting=layered, by=personas.chair)
    client = login(personas.chair)
    client.post(reverse("meetings:status", args=[layered.pk]), {"action": "lock", "confirm_early": "1"})
    layered.refresh_from_db()
    assert layered.status == MeetingStatus.MINUTES_LOCKED and layered.minutes_approved_by == personas.chair
    for call in [
        lambda: ms.agenda_item_note(item=item, notes="後から", based_on_version=item.version, by=personas.chair),
        lambda: ms.meeting_decide(item=item, kind="other", text="後から", by=personas.chair),
        lambda: ms.meeting_participant_add(meeting=layered, user=personas.caseworker_b, by=personas.chair),
        lambda: ms.agenda_set_current(meeting=layered, item=None, by=personas.chair),
    ]:
        with pytest.raises(ValidationError):
            call()
    minutes = client.get(reverse("meetings:minutes", args=[layered.pk])).content.decode()
    assert "承認・確定" in minutes and "情報共有のみ" in minutes


def test_the_chair_builds_an_agenda_from_due_reviews(personas, case_a):
    from casework.services.plans import plan_approve, plan_update

    meeting = ms_meeting(personas)
    plan = case_a.plans.get()
    plan_update(plan=plan, next_review_on=meeting_date(meeting), by=personas.caseworker_a)
    plan_approve(plan=plan, by=personas.caseworker_a)
    added, skipped = ms.agenda_from_due_reviews(meeting=meeting, by=personas.chair)
    assert [i.case for i in added] == [case_a] and added[0].purpose == "progress_review"
    assert skipped == []


def ms_meeting(personas):
    from tests.factories import make_meeting

    return make_meeting(chair=personas.chair, participants=[personas.caseworker_a])


def meeting_date(meeting):
    return meeting.meeting_date
