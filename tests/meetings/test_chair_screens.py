"""What the chair sees (issue 16): a decision form that presets nothing, a participant list without doubles,
printed minutes without buttons, locked minutes without forms, and a live region screen readers announce."""

from html.parser import HTMLParser

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from meetings import services as ms
from meetings.models import Decision

pytestmark = pytest.mark.django_db


PRINT_HIDDEN = {"no-print", "site-header", "site-nav", "site-footer", "messages"}


class Controls(HTMLParser):
    """Collect every form and button, and whether it sits inside an element marked no-print."""

    VOID = {"input", "br", "img", "meta", "link", "hr", "col", "source", "wbr"}

    def __init__(self):
        super().__init__()
        self.stack = []
        self.found = []  # (tag, attrs, printed)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        # What print.css hides: the site header, navigation and footer, messages and anything marked no-print.
        hidden = bool(PRINT_HIDDEN & set((attrs.get("class") or "").split()))
        printed = not hidden and not any(h for _t, h in self.stack)
        if tag in {"form", "button"}:
            self.found.append((tag, attrs, printed))
        if tag not in self.VOID:
            self.stack.append((tag, hidden))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break


def _controls(html):
    parser = Controls()
    parser.feed(html)
    return parser.found


def test_the_decision_form_presets_no_kind_and_marks_the_fields_each_kind_uses(personas, layered, login):
    html = login(personas.chair).get(reverse("meetings:detail", args=[layered.pk])).content.decode()
    assert '<option value="" selected>選んでください</option>' in html
    assert 'name="next_review_on" data-kinds="next_review"' in html or 'data-kinds="next_review"' in html
    assert html.count('data-kinds="action"') == 3
    assert 'id="id_kind"' not in html  # one form per item: no repeated ids


def test_a_decision_without_a_kind_is_refused_and_nothing_is_recorded(personas, layered, login, case_a):
    item = layered.items.get()
    response = login(personas.chair).post(
        reverse("meetings:decide", args=[layered.pk, item.pk]), {"kind": "", "text": "承認"}, follow=True
    )
    assert "決定の種類を選んでください。" in response.content.decode()
    assert not Decision.objects.filter(item=item).exists()
    case_a.refresh_from_db()
    assert case_a.state == "planning"


def test_adding_a_participant_offers_only_staff_not_taking_part(personas, layered, login):
    html = login(personas.chair).get(reverse("meetings:participants", args=[layered.pk])).content.decode()
    options = html[html.index('name="user"') :]
    options = options[: options.index("</select>")]
    assert f'value="{personas.caseworker_b.pk}"' in options
    for taking_part in (personas.chair, personas.coordinator, personas.caseworker_a):
        assert f'value="{taking_part.pk}"' not in options
    response = login(personas.chair).post(
        reverse("meetings:participants", args=[layered.pk]), {"action": "add", "user": personas.caseworker_a.pk}
    )
    assert "参加していない職員を一覧から選んでください。" in response.content.decode()


def test_the_live_agenda_is_announced_to_screen_readers(personas, layered, login):
    html = login(personas.caseworker_a).get(reverse("meetings:detail", args=[layered.pk])).content.decode()
    assert '<div id="live" aria-live="polite"' in html


def test_the_live_fragment_is_the_pages_own_partial(personas, layered, login):
    client = login(personas.caseworker_a)
    page = client.get(reverse("meetings:detail", args=[layered.pk])).content.decode()
    fragment = client.get(reverse("meetings:live", args=[layered.pk])).content.decode().strip()
    assert fragment.startswith('<div class="live-body"') and "<html" not in fragment
    assert fragment in page


def test_printed_minutes_carry_no_buttons(personas, layered, login):
    ms.meeting_start(meeting=layered, by=personas.chair)
    ms.meeting_conclude(meeting=layered, by=personas.chair)
    html = login(personas.chair).get(reverse("meetings:minutes", args=[layered.pk])).content.decode()
    controls = _controls(html)
    assert any(tag == "button" for tag, _a, _p in controls)  # the chair's lock button is on the screen
    assert [c for c in controls if c[2]] == []


def test_locked_minutes_show_no_editable_forms(personas, layered, login, case_a):
    item = layered.items.get()
    ms.meeting_participant_add(meeting=layered, user=personas.caseworker_b, by=personas.chair)
    ms.meeting_start(meeting=layered, by=personas.chair)
    ms.meeting_decide(
        item=item,
        kind="action",
        text="家計相談の予約",
        actions=[{"organization": personas.window_b, "text": "家計相談の予約"}],
        by=personas.chair,
    )
    ms.meeting_conclude(meeting=layered, by=personas.chair)
    ms.minutes_approve(meeting=layered, by=personas.chair)
    client = login(personas.chair)
    for name in ("detail", "live", "agenda", "participants", "minutes"):
        html = client.get(reverse(f"meetings:{name}", args=[layered.pk])).content.decode()
        posting = [attrs for tag, attrs, _p in _controls(html) if tag == "form" and attrs.get("method") == "post"]
        # The sign-out form of the site header is the only one left.
        assert [a for a in posting if a.get("action") != reverse("logout")] == [], name


def test_the_minutes_list_who_attended_not_who_was_invited(personas, layered, login):
    ms.meeting_participant_add(meeting=layered, user=personas.caseworker_b, by=personas.chair)
    client = login(personas.chair)
    url = reverse("meetings:participants", args=[layered.pk])
    absentee = layered.participants.get(user=personas.caseworker_b)
    assert "出席は会議を開始してから記録します" in client.get(url).content.decode()
    ms.meeting_start(meeting=layered, by=personas.chair)
    for user in (personas.chair, personas.coordinator, personas.caseworker_a, personas.caseworker_b):
        participant = layered.participants.get(user=user)
        response = client.post(url, {"action": "attend", "participant": participant.pk}, follow=True)
        assert "出席を記録しました。" in response.content.decode()
    client.post(url, {"action": "absent", "participant": absentee.pk})
    absentee.refresh_from_db()
    assert not absentee.attended

    html = client.get(reverse("meetings:minutes", args=[layered.pk])).content.decode()
    attendees = html[html.index("出席者") : html.index("欠席")]
    assert "渡邊" in attendees and personas.caseworker_b.last_name not in attendees
    assert f"欠席:</strong> {personas.caseworker_b.get_full_name()}" in html


def test_without_recorded_attendance_the_minutes_say_so(personas, layered, login):
    html = login(personas.chair).get(reverse("meetings:minutes", args=[layered.pk])).content.decode()
    assert "出席の記録がありません。" in html
    assert "欠席:" not in html


def test_attendance_is_the_chairs_or_secretarys_and_stops_with_the_locked_minutes(personas, layered):
    ms.meeting_start(meeting=layered, by=personas.chair)
    participant = layered.participants.get(user=personas.caseworker_a)
    with pytest.raises(PermissionError):
        ms.participant_attendance_record(participant=participant, attended=True, by=personas.caseworker_a)
    ms.meeting_conclude(meeting=layered, by=personas.chair)
    ms.minutes_approve(meeting=layered, by=personas.chair)
    with pytest.raises(ValidationError):
        ms.participant_attendance_record(participant=participant, attended=True, by=personas.chair)
