"""Every meeting screen: participants get it, everyone else gets 404 (or the login page)."""

import pytest
from django.urls import reverse

from casework.models import AccessLog
from meetings import services as ms
from meetings.models import Meeting

pytestmark = pytest.mark.django_db


def _urls(meeting):
    item = meeting.items.get()
    return [
        reverse("meetings:detail", args=[meeting.pk]),
        reverse("meetings:live", args=[meeting.pk]),
        reverse("meetings:participants", args=[meeting.pk]),
        reverse("meetings:minutes", args=[meeting.pk]),
        reverse("meetings:item", args=[meeting.pk, item.pk]),
    ]


def test_participants_open_every_screen(personas, layered, login, case_a):
    for user in [personas.chair, personas.coordinator, personas.caseworker_a]:
        client = login(user)
        for url in _urls(layered):
            response = client.get(url)
            assert response.status_code == 200, (user, url)
    html = login(personas.caseworker_a).get(reverse("meetings:detail", args=[layered.pk])).content.decode()
    assert case_a.number in html and 'data-ws-path="/ws/meetings/' in html


@pytest.mark.parametrize("who", ["caseworker_b", "supervisor_a", "place_staff", "auditor", "administrator"])
def test_outsiders_get_404_and_a_denied_row(personas, layered, login, who):
    client = login(getattr(personas, who))
    for url in _urls(layered) + [reverse("meetings:agenda", args=[layered.pk])]:
        assert client.get(url).status_code == 404, url
    assert AccessLog.objects.filter(actor=getattr(personas, who), outcome="denied").exists()


def test_a_removed_participant_gets_404_at_once(personas, layered, login):
    client = login(personas.caseworker_a)
    assert client.get(reverse("meetings:detail", args=[layered.pk])).status_code == 200
    ms.meeting_participant_remove(participant=layered.participants.get(user=personas.caseworker_a), by=personas.chair)
    assert client.get(reverse("meetings:detail", args=[layered.pk])).status_code == 404


def test_anonymous_visitors_go_to_login(layered, client):
    response = client.get(reverse("meetings:detail", args=[layered.pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_only_the_chair_edits_the_agenda(personas, layered, login):
    assert login(personas.caseworker_a).get(reverse("meetings:agenda", args=[layered.pk])).status_code == 403
    assert login(personas.chair).get(reverse("meetings:agenda", args=[layered.pk])).status_code == 200
    response = login(personas.caseworker_a).post(reverse("meetings:next", args=[layered.pk]))
    assert response.status_code == 403


def test_the_agenda_form_shows_why_a_case_is_refused(personas, layered, login):
    from tests.factories import make_meeting_case, propose_case

    # Window B proposes its case (no consent yet) and takes part; the chair picks it from the queue.
    case = make_meeting_case(lead_organization=personas.window_b, lead_worker=personas.caseworker_b, family_name="𠮷田")
    propose_case(case, kind="layered_meeting", purpose="progress_review")
    ms.meeting_participant_add(meeting=layered, user=personas.caseworker_b, by=personas.chair)
    queue = login(personas.chair).get(reverse("meetings:agenda", args=[layered.pk])).content.decode()
    assert case.number in queue and "𠮷田" not in queue
    response = login(personas.chair).post(
        reverse("meetings:agenda", args=[layered.pk]),
        {"action": "add", "case": case.pk, "purpose": "progress_review"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "本人同意が確認できません" in html and "𠮷田" not in html
    assert not layered.items.filter(case=case).exists()


def test_bad_input_gets_a_message_not_a_500(personas, layered, login):
    client = login(personas.chair)
    response = client.post(
        reverse("meetings:agenda", args=[layered.pk]), {"action": "add", "case": "R7\x00", "purpose": "x"}
    )
    assert response.status_code == 200
    item = layered.items.get()
    # A lone surrogate cannot travel as UTF-8: it arrives as undecodable bytes.
    response = client.post(
        reverse("meetings:notes", args=[layered.pk, item.pk]),
        "notes=a%ED%A0%80b&based_on_version=1",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200 and "使用できない文字" in response.content.decode()
    response = client.post(
        reverse("meetings:decide", args=[layered.pk, item.pk]),
        {"kind": "next_review", "next_review_on": "令和99年13月1日"},
        follow=True,
    )
    assert response.status_code == 200
    assert not item.decisions.exists()


def test_the_chair_creates_a_meeting(personas, login):
    client = login(personas.chair)
    assert client.get(reverse("meetings:create")).status_code == 200
    response = client.post(
        reverse("meetings:create"),
        {
            "kind": "support_meeting",
            "title": "支援会議 𠮷野さん世帯",
            "starts_at": "2030-04-01T10:00",
            "convened_by": personas.municipal.pk,
            "secretary": personas.coordinator.pk,
        },
    )
    meeting = Meeting.objects.get()
    assert response.status_code == 302 and meeting.title == "支援会議 𠮷野さん世帯"
    assert set(meeting.participants.values_list("user__username", flat=True)) == {"chair", "coord"}
    # Window caseworkers do not convene meetings.
    assert login(personas.caseworker_a).get(reverse("meetings:create")).status_code == 404


def test_the_live_fragment_keeps_a_constant_number_of_queries(personas, layered, login, django_assert_max_num_queries):
    from tests.factories import give_layered_consent, make_meeting_case, put_on_agenda

    client = login(personas.caseworker_a)
    url = reverse("meetings:live", args=[layered.pk])
    client.get(url)
    for n in range(3):
        case = make_meeting_case(
            lead_organization=personas.window_a, lead_worker=personas.caseworker_a, family_name=f"森{n}"
        )
        give_layered_consent(case, by=personas.caseworker_a)
        put_on_agenda(meeting=layered, case=case, purpose="progress_review", by=personas.chair)
    # Consent is checked per item on every open (withdrawal takes effect at once), so allow a few per item.
    with django_assert_max_num_queries(60):
        assert client.get(url).status_code == 200


def test_the_home_panel_lists_upcoming_meetings(personas, layered, rf):
    from django.template.loader import render_to_string

    from casework.viewers import Viewer
    from meetings.selectors import home_panels

    request = rf.get("/")
    request.user = personas.caseworker_a
    (panel,) = home_panels(request, Viewer(personas.caseworker_a))
    html = render_to_string(panel.template, {"panel": panel.context})
    assert layered.title in html
    request.user = personas.place_staff
    assert home_panels(request, Viewer(personas.place_staff)) == []


def _add_consented_items(personas, meeting, n):
    from tests.factories import give_layered_consent, make_meeting_case, put_on_agenda

    for i in range(n):
        case = make_meeting_case(
            lead_organization=personas.window_a, lead_worker=personas.caseworker_a, family_name=f"林{i}"
        )
        give_layered_consent(case, by=personas.caseworker_a)
        put_on_agenda(meeting=meeting, case=case, purpose="progress_review", by=personas.chair)


def _statements(captured) -> list[str]:
    """The statements a request sends, without the savepoints the test's own transaction turns BEGIN/COMMIT into."""
    return [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]


@pytest.mark.parametrize("name", ["meetings:detail", "meetings:live"])
def test_the_meeting_page_reads_a_constant_number_of_queries(personas, layered, login, name):
    """Consents, teams, subjects and organizations are read once for every item (issue 20: at most 15)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(personas.caseworker_a)
    url = reverse(name, args=[layered.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    _add_consented_items(personas, layered, 5)
    with CaptureQueriesContext(connection) as six:
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count("林") >= 5
    statements = _statements(six)
    assert len(statements) == len(_statements(one)), "\n".join(statements)
    assert len(statements) <= 15, "\n".join(statements)
