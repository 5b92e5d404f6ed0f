"""Every meetings service's live events: the right kind and fields, and only after the transaction commits.

Zulip's test_events idea: run each service and compare what it sends with what the page expects. A new
service must be listed here (the last test fails otherwise), so no write forgets to tell the clients.
"""

import inspect
from datetime import timedelta

import pytest
from django.utils import timezone

from casework import live
from casework.accounts.sessions import user_end_sessions
from meetings import services as ms
from meetings.consumers import MeetingConsumer
from meetings.models import Decision
from tests.factories import give_layered_consent, make_meeting_case

# Public functions of meetings.services that read only or write nothing a meeting page shows.
NOT_MEETING_WRITES = {"agenda_gate", "agenda_next_item", "cases_due_for_review", "case_proposal_withdraw"}
NOT_MEETING_WRITES |= {"presence_touch", "case_closure_actions"}  # closing a case: its choices call the services above
# 人事異動 (casework's hand-over screen): two reads; its two writes are checked in their own test below.
NOT_MEETING_WRITES |= {"handover_action_items", "handover_meeting_seats"}
HANDOVER_WRITES = {"handover_action_reassign", "handover_meeting_reassign"}
NOT_MEETING_WRITES |= HANDOVER_WRITES
# Run below, in this order, with the events each one must send.
SERVICES = """meeting_create meeting_participant_add pledge_record agenda_item_edit agenda_reorder agenda_move
meeting_start agenda_set_current agenda_item_note meeting_decide action_item_mark_done action_item_reopen case_propose
agenda_item_add agenda_item_remove agenda_from_due_reviews presence_join presence_leave meeting_participant_remove
participant_attendance_record meeting_conclude minutes_approve meeting_reschedule meeting_cancel""".split()
COVERED = set()


@pytest.fixture
def sent(monkeypatch):
    events = []
    monkeypatch.setattr(live, "_send", lambda group, event: events.append((group, event)))
    return events


@pytest.fixture
def expect_events(sent, django_capture_on_commit_callbacks):
    """Run a service; nothing may be sent before commit; return what is sent once it commits."""

    def run(name, call):
        COVERED.add(name)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            result = call()
        assert sent == [], f"{name} sent before commit"
        for callback in callbacks:
            callback()
        events = list(sent)
        sent.clear()
        for _group, event in events:
            live.check_event(event)
        return result, events

    return run


def _changed(meeting, what):
    meeting.refresh_from_db()
    return (live.meeting_group(meeting.pk), {"type": live.MEETING_CHANGED, "version": meeting.version, "what": what})


def test_every_meetings_service_sends_its_events_after_commit(personas, layered, case_a, expect_events):
    chair, m = personas.chair, layered
    item = m.items.get()

    second_meeting, events = expect_events(
        "meeting_create",
        lambda: ms.meeting_create(
            kind="layered_meeting",
            title="第2回",
            starts_at=timezone.now() + timedelta(days=7),
            convened_by=personas.chair.memberships.first().organization,
            chair=chair,
            by=chair,
        ),
    )
    assert events == []  # nobody can have the page of a meeting open before it exists

    participant, events = expect_events(
        "meeting_participant_add", lambda: ms.meeting_participant_add(meeting=m, user=personas.caseworker_b, by=chair)
    )
    # The invited user is told (お知らせ badge), then the meeting's page is.
    badge = [event for event in events if event[1]["type"] == "notifications.changed"]
    assert {group for group, _ in badge} == {f"user-{personas.caseworker_b.pk}"}
    assert [event for event in events if event not in badge] == [_changed(m, "participants")]
    _, events = expect_events("pledge_record", lambda: ms.pledge_record(participant=participant, by=chair))
    assert events == [_changed(m, "participants")]

    item.refresh_from_db()
    _, events = expect_events(
        "agenda_item_edit",
        lambda: ms.agenda_item_edit(
            item=item, summary="概要", purpose="plan_agreement", based_on_version=item.version, by=chair
        ),
    )
    assert events == [_changed(m, "agenda")]
    _, events = expect_events("agenda_reorder", lambda: ms.agenda_reorder(meeting=m, item_ids=[item.pk], by=chair))
    assert events == [_changed(m, "agenda")]
    _, events = expect_events("agenda_move", lambda: ms.agenda_move(item=item, direction=1, by=chair))
    assert events == [_changed(m, "agenda")]

    _, events = expect_events("meeting_start", lambda: ms.meeting_start(meeting=m, by=chair))
    assert events == [_changed(m, "status")]
    _, events = expect_events("agenda_set_current", lambda: ms.agenda_set_current(meeting=m, item=item, by=chair))
    assert events == [_changed(m, "current")]
    item.refresh_from_db()
    _, events = expect_events(
        "agenda_item_note",
        lambda: ms.agenda_item_note(item=item, notes="記録", based_on_version=item.version, by=personas.coordinator),
    )
    assert events == [_changed(m, "notes")]

    decision, events = expect_events(
        "meeting_decide",
        lambda: ms.meeting_decide(
            item=item,
            kind=Decision.Kind.ACTION,
            text="家計相談の予約",
            actions=[{"organization": personas.window_b, "text": "家計相談の予約"}],
            by=chair,
        ),
    )
    # Window B's members are told of their new action item (お知らせ badge), then the meeting changed.
    badge = [event for event in events if event[1]["type"] == "notifications.changed"]
    assert badge and {group for group, _ in badge} == {f"user-{personas.caseworker_b.pk}"}
    assert [event for event in events if event not in badge] == [_changed(m, "decisions")]
    action = decision.actions.get()
    _, events = expect_events(
        "action_item_mark_done", lambda: ms.action_item_mark_done(action=action, by=personas.caseworker_b)
    )
    assert events == [_changed(m, "actions")]
    action.refresh_from_db()
    _, events = expect_events(
        "action_item_reopen", lambda: ms.action_item_reopen(action=action, by=personas.caseworker_b)
    )
    assert events == [_changed(m, "actions")]

    second = make_meeting_case(lead_organization=personas.window_a, lead_worker=personas.caseworker_a, family_name="森")
    give_layered_consent(second, by=personas.caseworker_a)
    _, events = expect_events(
        "case_propose",
        lambda: ms.case_propose(case=second, kind=m.kind, purpose="progress_review", by=personas.caseworker_a),
    )
    assert events == []  # a proposal waits in the chair's queue; no meeting page shows it yet
    extra, events = expect_events(
        "agenda_item_add",
        lambda: ms.agenda_item_add(meeting=m, case=second, purpose="progress_review", by=chair),
    )
    assert events == [_changed(m, "agenda")]
    _, events = expect_events("agenda_item_remove", lambda: ms.agenda_item_remove(item=extra, by=chair))
    assert events == [_changed(m, "agenda")]
    _, events = expect_events("agenda_from_due_reviews", lambda: ms.agenda_from_due_reviews(meeting=m, by=chair))
    assert events == []  # no case is due for review here

    member = m.participants.get(user=personas.caseworker_a)
    _, events = expect_events(
        "presence_join",
        lambda: ms.presence_join(meeting=m, participant=member, channel_name="test.channel", by=personas.caseworker_a),
    )
    assert events == [_changed(m, "presence")]
    assert ms.presence_touch(meeting_id=m.pk, channel_name="test.channel") == m.version
    _, events = expect_events("presence_leave", lambda: ms.presence_leave(meeting_id=m.pk, channel_name="test.channel"))
    assert events == [_changed(m, "presence")]
    _, events = expect_events("presence_leave", lambda: ms.presence_leave(meeting_id=m.pk, channel_name="test.channel"))
    assert events == []  # leaving twice tells nobody

    participant.refresh_from_db()
    _, events = expect_events(
        "meeting_participant_remove", lambda: ms.meeting_participant_remove(participant=participant, by=chair)
    )
    assert events == [
        _changed(m, "participants"),
        (
            live.meeting_group(m.pk),
            {"type": live.MEETING_PARTICIPANT_REMOVED, "user_id": personas.caseworker_b.pk},
        ),
    ]

    _, events = expect_events(
        "participant_attendance_record",
        lambda: ms.participant_attendance_record(participant=member, attended=True, by=personas.coordinator),
    )
    assert events == [_changed(m, "participants")]
    _, events = expect_events(
        "participant_attendance_record",
        lambda: ms.participant_attendance_record(participant=member, attended=True, by=personas.coordinator),
    )
    assert events == []  # recorded already: nothing changed

    _, events = expect_events("meeting_conclude", lambda: ms.meeting_conclude(meeting=m, by=chair))
    assert events == [_changed(m, "status")]
    _, events = expect_events("minutes_approve", lambda: ms.minutes_approve(meeting=m, by=chair))
    assert events == [_changed(m, "status")]

    # The second meeting (only the chair takes part): moved, then cancelled; nobody else to tell.
    _, events = expect_events(
        "meeting_reschedule",
        lambda: ms.meeting_reschedule(
            meeting=second_meeting, starts_at=timezone.now() + timedelta(days=9), place="別館", by=chair
        ),
    )
    assert events == [_changed(second_meeting, "schedule")]
    _, events = expect_events(
        "meeting_cancel", lambda: ms.meeting_cancel(meeting=second_meeting, reason="台風のため", by=chair)
    )
    assert events == [_changed(second_meeting, "status")]
    assert set(SERVICES) <= COVERED


def test_a_hand_over_tells_the_meeting_after_commit(personas, layered, expect_events):
    from casework.services.handover import HandoverItem
    from meetings.models import ActionItem

    m, leaving, to = layered, personas.caseworker_a, personas.supervisor_a
    action = ActionItem.objects.create(
        item=m.items.get(), organization=personas.window_a, assignee=leaving, text="家計相談の予約"
    )
    item = HandoverItem("action", action.pk, None, "行動 1")
    _, events = expect_events(
        "handover_action_reassign",
        lambda: ms.handover_action_reassign(item, organization=personas.window_a, leaving=leaving, to=to, by=to),
    )
    assert events == [_changed(m, "actions")]
    action.refresh_from_db()
    assert action.assignee == to

    seat = m.participants.get(user=leaving)
    item = HandoverItem("meeting", seat.pk, None, m.title)
    _, events = expect_events(
        "handover_meeting_reassign",
        lambda: ms.handover_meeting_reassign(item, organization=seat.organization, leaving=leaving, to=to, by=to),
    )
    assert events[0] == _changed(m, "participants")
    assert events[1:] == [(live.meeting_group(m.pk), {"type": live.MEETING_PARTICIPANT_REMOVED, "user_id": leaving.pk})]
    assert HANDOVER_WRITES <= COVERED


def test_ending_a_users_sessions_tells_their_sockets_after_commit(personas, expect_events):
    _, events = expect_events("user_end_sessions", lambda: user_end_sessions(user=personas.caseworker_a))
    assert events == [(live.user_group(personas.caseworker_a.pk), {"type": live.SESSION_ENDED})]


def test_a_refused_write_sends_nothing(personas, layered, sent, django_capture_on_commit_callbacks):
    item = layered.items.get()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ms.StaleEdit):
        ms.agenda_item_note(item=item, notes="古い版", based_on_version=99, by=personas.coordinator)
    assert sent == []


@pytest.mark.parametrize(
    "event",
    [
        {"type": "meeting.note", "version": 1},
        {"type": live.MEETING_CHANGED, "version": 1},
        {"type": live.MEETING_CHANGED, "version": "1", "what": "agenda"},
        {"type": live.MEETING_CHANGED, "version": 1, "what": "agenda", "notes": "本文"},
        {"type": live.MEETING_CHANGED, "version": 1, "what": "everything"},
        {"type": live.MEETING_PARTICIPANT_REMOVED, "user_id": True},
    ],
)
def test_an_event_outside_the_definitions_is_refused_before_anything_is_queued(event, sent):
    with pytest.raises(ValueError):
        live.send_event_on_commit("meeting-1", event)
    assert sent == []


def test_every_event_kind_has_a_consumer_handler():
    for kind in live.EVENT_KINDS:
        assert callable(getattr(MeetingConsumer, kind.replace(".", "_"), None)), kind


def test_every_meetings_service_is_listed_here():
    services = {
        name
        for name, func in inspect.getmembers(ms, inspect.isfunction)
        if func.__module__ == ms.__name__ and not name.startswith("_")
    }
    assert services - NOT_MEETING_WRITES == set(SERVICES)
