"""A refused decision goes back to the meeting page, in its own item's form, as typed, with one message."""

import pytest
from django.urls import reverse

from casework.models import CaseState
from meetings.models import Decision
from tests.refusals import refused_page

pytestmark = pytest.mark.django_db


def test_a_decision_refused_by_the_form_comes_back_in_its_item_form(personas, layered, login):
    item = layered.items.get()
    client = login(personas.chair)
    response = client.post(
        reverse("meetings:decide", args=[layered.pk, item.pk]),
        {"kind": "action", "text": "訪問の調整", "action_assignee_name": "佐藤"},
    )
    html = refused_page(client, response, reverse("meetings:detail", args=[layered.pk]))
    assert html.count("担当機関を選んでください。") == 1
    form = html[html.index(f'id="decide-{item.pk}"') :]
    form = form[: form.index("</form>")]
    assert "data-refused" in form
    assert '<option value="action" selected>' in form
    assert "訪問の調整</textarea>" in form and 'value="佐藤"' in form
    assert not Decision.objects.exists()


def test_a_decision_refused_by_the_service_shows_its_message_once_and_keeps_the_text(personas, layered, case_a, login):
    item = layered.items.get()
    client = login(personas.chair)
    response = client.post(
        reverse("meetings:decide", args=[layered.pk, item.pk]),
        {"kind": "close", "text": "目標を達成したため", "confirm_early": "1"},
    )
    html = refused_page(client, response, reverse("meetings:detail", args=[layered.pk]))
    assert html.count("変更できません") == 1
    assert "目標を達成したため</textarea>" in html
    case_a.refresh_from_db()
    assert case_a.state == CaseState.PLANNING


def test_the_kept_form_is_shown_once_then_the_page_is_as_usual(personas, layered, login):
    item = layered.items.get()
    client = login(personas.chair)
    client.post(reverse("meetings:decide", args=[layered.pk, item.pk]), {"kind": ""})
    first = client.get(reverse("meetings:detail", args=[layered.pk])).content.decode()
    again = client.get(reverse("meetings:detail", args=[layered.pk])).content.decode()
    assert "決定の種類を選んでください。" in first and "data-refused" in first
    assert "決定の種類を選んでください。" not in again and "data-refused" not in again
