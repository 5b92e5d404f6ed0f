"""Action items (役割分担・宿題): done and reopened by the assigned organization, shown everywhere with their state."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from casework.models import AccessLog
from meetings import services as ms
from meetings.models import ActionItem, ActionItemEvent, MeetingStatus

pytestmark = pytest.mark.django_db


def _assign(meeting, by, organization, *, text="就労準備支援につなぐ", due_on=None) -> ActionItem:
    decision = ms.meeting_decide(
        item=meeting.items.get(),
        kind="action",
        text=text,
        actions=[{"organization": organization, "text": text, "due_on": due_on, "assignee_name": "鈴木"}],
        by=by,
    )
    return decision.actions.get()


def _window_b_takes_part(personas, meeting) -> None:
    """Window B's caseworker joins: only an organization taking part follows up the meeting's actions."""
    ms.meeting_participant_add(meeting=meeting, user=personas.caseworker_b, by=personas.chair)


@pytest.fixture
def action(personas, layered):
    """An action for window B (its caseworker takes part in the meeting), due in a month."""
    _window_b_takes_part(personas, layered)
    return _assign(layered, personas.chair, personas.window_b, due_on=timezone.localdate() + timedelta(days=30))


# ---------------------------------------------------------------------------
# Services
# ---------------------------------------------------------------------------


def test_an_action_decision_creates_an_open_action_item(personas, layered, action):
    assert action.organization == personas.window_b and action.text == "就労準備支援につなぐ"
    assert not action.done and action.done_at is None and action.item == layered.items.get()


def test_a_caseworker_of_the_assigned_organization_marks_it_done_with_a_note(personas, layered, action):
    version = ms.Meeting.objects.get(pk=layered.pk).version
    done = ms.action_item_mark_done(action=action, by=personas.caseworker_b, note="4/10 面談で申込済み")
    done.refresh_from_db()
    assert done.done and done.done_by == personas.caseworker_b and done.done_note == "4/10 面談で申込済み"
    assert done.done_at is not None
    event = done.events.get()
    assert event.kind == ActionItemEvent.Kind.DONE and event.by == personas.caseworker_b
    assert event.organization == personas.window_b
    row = AccessLog.objects.filter(object_type="actionitem", object_id=str(action.pk)).latest("id")
    assert row.action == "change" and row.actor == personas.caseworker_b and row.person_ids
    assert ms.Meeting.objects.get(pk=layered.pk).version == version + 1


def test_reopening_clears_the_state_and_the_history_keeps_both_events(personas, action):
    ms.action_item_mark_done(action=action, by=personas.caseworker_b)
    ms.action_item_reopen(action=action, by=personas.chair, note="申込が取り下げられた")
    action.refresh_from_db()
    assert not action.done and action.done_at is None and action.done_by is None and action.done_note == ""
    assert list(action.events.values_list("kind", "note")) == [("done", ""), ("reopened", "申込が取り下げられた")]


def test_the_chair_and_the_secretary_may_update_it(personas, action):
    ms.action_item_mark_done(action=action, by=personas.coordinator)
    ms.action_item_reopen(action=action, by=personas.chair)
    action.refresh_from_db()
    assert not action.done and action.events.count() == 2


@pytest.mark.parametrize("who", ["caseworker_a", "supervisor_a", "auditor", "administrator", "deactivated"])
def test_anyone_else_is_refused_and_nothing_changes(personas, action, who):
    with pytest.raises(PermissionError):
        ms.action_item_mark_done(action=action, by=getattr(personas, who))
    action.refresh_from_db()
    assert not action.done and not action.events.exists()


def test_a_place_operator_cannot_be_given_an_action(personas, layered):
    from meetings.forms import DecisionForm

    with pytest.raises(ValidationError) as exc:
        _assign(layered, personas.chair, personas.place_operator, text="見学の受け入れ")
    assert "居場所" in " ".join(exc.value.messages)
    assert not ActionItem.objects.exists()
    assert personas.place_operator not in DecisionForm().fields["action_organization"].queryset


def test_place_staff_never_update_an_action_even_of_their_organization(personas, layered):
    # Rows from before place operators were refused, or written directly: still closed to place staff.
    action = ActionItem.objects.create(
        item=layered.items.get(), organization=personas.place_operator, text="見学の受け入れ"
    )
    with pytest.raises(PermissionError):
        ms.action_item_mark_done(action=action, by=personas.place_staff)


def test_marking_done_twice_or_reopening_an_open_one_is_refused(personas, action):
    with pytest.raises(ValidationError):
        ms.action_item_reopen(action=action, by=personas.caseworker_b)
    ms.action_item_mark_done(action=action, by=personas.caseworker_b)
    with pytest.raises(ValidationError):
        ms.action_item_mark_done(action=action, by=personas.chair)
    assert action.events.count() == 1


def test_a_bad_note_is_refused_and_changes_nothing(personas, action):
    for note in ["a\x00b", "長" * 501]:
        with pytest.raises(ValidationError):
            ms.action_item_mark_done(action=action, by=personas.caseworker_b, note=note)
    action.refresh_from_db()
    assert not action.done


def test_follow_up_works_after_the_minutes_are_locked_without_moving_the_meeting(personas, layered, action):
    ms.meeting_conclude(meeting=layered, by=personas.chair)
    ms.minutes_approve(meeting=layered, by=personas.chair)
    locked = ms.Meeting.objects.get(pk=layered.pk)
    assert locked.status == MeetingStatus.MINUTES_LOCKED
    ms.action_item_mark_done(action=action, by=personas.caseworker_b, note="完了")
    action.refresh_from_db()
    assert action.done
    assert ms.Meeting.objects.get(pk=layered.pk).version == locked.version


def test_overdue_means_due_date_passed_and_not_done(personas, layered):
    _window_b_takes_part(personas, layered)
    today = timezone.localdate()
    late = _assign(layered, personas.chair, personas.window_b, due_on=today - timedelta(days=1))
    due_today = ActionItem(organization=personas.window_b, due_on=today, text="x")
    no_date = ActionItem(organization=personas.window_b, text="x")
    assert late.overdue and not due_today.overdue and not no_date.overdue
    ms.action_item_mark_done(action=late, by=personas.caseworker_b)
    late.refresh_from_db()
    assert not late.overdue


# ---------------------------------------------------------------------------
# Views
# ---------------------------------------------------------------------------


def test_the_assigned_organization_marks_it_done_from_the_home_page(personas, action, login):
    client = login(personas.caseworker_b)
    home = client.get(reverse("home")).content.decode()
    assert "自機関の未完了の対応事項" in home and "就労準備支援につなぐ" in home
    assert reverse("meetings:action_done", args=[action.pk]) in home
    response = client.post(reverse("meetings:action_done", args=[action.pk]), {"note": "申込済み", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    action.refresh_from_db()
    assert action.done and action.done_note == "申込済み"
    assert "就労準備支援につなぐ" not in client.get(reverse("home")).content.decode()


def test_the_chair_reopens_from_the_meeting_page(personas, layered, action, login):
    ms.action_item_mark_done(action=action, by=personas.caseworker_b)
    client = login(personas.chair)
    detail = reverse("meetings:detail", args=[layered.pk])
    html = client.get(detail).content.decode()
    assert reverse("meetings:action_reopen", args=[action.pk]) in html
    response = client.post(reverse("meetings:action_reopen", args=[action.pk]), {"next": detail})
    assert response.status_code == 302 and response["Location"] == detail
    action.refresh_from_db()
    assert not action.done


@pytest.mark.parametrize("who", ["caseworker_a", "supervisor_a", "place_staff", "auditor", "administrator"])
def test_outsiders_get_404_and_a_denied_row(personas, action, login, who):
    user = getattr(personas, who)
    client = login(user)
    for name in ["meetings:action_done", "meetings:action_reopen"]:
        assert client.post(reverse(name, args=[action.pk]), {"next": "/"}).status_code == 404
    assert AccessLog.objects.filter(actor=user, outcome="denied", object_type="actionitem").exists()
    action.refresh_from_db()
    assert not action.done


def test_a_missing_action_is_404(personas, login):
    assert login(personas.caseworker_b).post(reverse("meetings:action_done", args=[999999])).status_code == 404


def test_anonymous_visitors_go_to_login(action, client):
    response = client.post(reverse("meetings:action_done", args=[action.pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    action.refresh_from_db()
    assert not action.done


def test_a_foreign_next_is_ignored(personas, action, login):
    response = login(personas.caseworker_b).post(
        reverse("meetings:action_done", args=[action.pk]), {"next": "https://evil.example/"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_bad_input_gets_a_message_not_a_500(personas, action, login):
    client = login(personas.caseworker_b)
    response = client.post(reverse("meetings:action_done", args=[action.pk]), {"note": "x" * 600}, follow=True)
    assert response.status_code == 200 and "500" in response.content.decode()
    response = client.post(
        reverse("meetings:action_done", args=[action.pk]),
        "note=a%ED%A0%80b",
        content_type="application/x-www-form-urlencoded",
        follow=True,
    )
    assert response.status_code == 200 and "使用できない文字" in response.content.decode()
    ms.action_item_mark_done(action=action, by=personas.caseworker_b)
    response = client.post(reverse("meetings:action_done", args=[action.pk]), follow=True)
    assert response.status_code == 200 and "すでに完了" in response.content.decode()
    assert action.events.count() == 1


def test_a_get_changes_nothing(personas, action, login):
    assert login(personas.caseworker_b).get(reverse("meetings:action_done", args=[action.pk])).status_code == 405
    action.refresh_from_db()
    assert not action.done


# ---------------------------------------------------------------------------
# Where the state shows: meeting page, minutes, case page, home
# ---------------------------------------------------------------------------


def test_overdue_and_done_show_on_the_meeting_page_the_minutes_and_the_case_page(personas, layered, case_a, login):
    _window_b_takes_part(personas, layered)
    late = _assign(layered, personas.chair, personas.window_b, text="家計相談の予約", due_on=date(2020, 4, 1))
    chair = login(personas.chair)
    pages = [reverse("meetings:detail", args=[layered.pk]), reverse("meetings:minutes", args=[layered.pk])]
    for url in pages:
        html = chair.get(url).content.decode()
        assert "家計相談の予約" in html and "期限超過" in html and "is-overdue" in html, url
    case_url = reverse("casework:case_detail", args=[case_a.pk])
    case_html = login(personas.caseworker_a).get(case_url).content.decode()
    assert "家計相談の予約" in case_html and "期限超過" in case_html
    # The lead window sees the state but may not change another organization's task.
    assert reverse("meetings:action_done", args=[late.pk]) not in case_html

    ms.action_item_mark_done(action=late, by=personas.caseworker_b, note="予約済み（5/8）")
    for url in pages:
        html = chair.get(url).content.decode()
        assert "予約済み（5/8）" in html and "期限超過" not in html, url
        assert personas.caseworker_b.get_full_name() in html, url
    case_html = login(personas.caseworker_a).get(case_url).content.decode()
    assert "予約済み（5/8）" in case_html and "期限超過" not in case_html


def test_the_home_panel_lists_only_the_own_organizations_open_actions_and_logs_them(personas, layered, rf):
    from django.template.loader import render_to_string

    from casework.viewers import Viewer
    from meetings.selectors import home_panels

    _window_b_takes_part(personas, layered)
    mine = _assign(layered, personas.chair, personas.window_b, text="就労準備支援", due_on=date(2020, 1, 1))
    _assign(layered, personas.chair, personas.window_a, text="母の介護認定申請")
    request = rf.get("/")
    request.user = personas.caseworker_b

    def action_panels():
        return [p for p in home_panels(request, Viewer(request.user)) if p.template.endswith("open_actions.html")]

    (panel,) = action_panels()
    assert [a.pk for a in panel.context["actions"]] == [mine.pk]
    html = render_to_string(panel.template, {"panel": panel.context})
    assert "就労準備支援" in html and "母の介護認定申請" not in html and "期限超過" in html
    row = AccessLog.objects.filter(object_type="action_home").latest("id")
    assert row.actor == personas.caseworker_b and row.basis == "consent" and row.person_ids
    ms.action_item_mark_done(action=mine, by=personas.caseworker_b)
    assert action_panels() == []
    request.user = personas.place_staff
    assert home_panels(request, Viewer(personas.place_staff)) == []


def test_the_home_panel_keeps_a_constant_number_of_queries(personas, layered, rf):
    from django.db import connection
    from django.template.loader import render_to_string
    from django.test.utils import CaptureQueriesContext

    from casework.viewers import Viewer
    from meetings.selectors import home_panels

    def run() -> int:
        request = rf.get("/")
        request.user = personas.caseworker_b
        with CaptureQueriesContext(connection) as queries:
            for panel in home_panels(request, Viewer(personas.caseworker_b)):
                render_to_string(panel.template, {"panel": panel.context, "csrf_token": "x"})
        return len(queries)

    _window_b_takes_part(personas, layered)
    _assign(layered, personas.chair, personas.window_b, text="一件目")
    one = run()
    for n in range(4):
        _assign(layered, personas.chair, personas.window_b, text=f"追加{n}", due_on=date(2030, 1, n + 1))
    assert run() == one
