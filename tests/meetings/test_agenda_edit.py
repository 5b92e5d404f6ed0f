"""Editing an agenda item's summary and purpose (chair, secretary) and removing an undecided item (chair)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from casework.models import AccessLog
from meetings import services as ms
from meetings.models import AgendaItem, Meeting
from tests.factories import give_layered_consent, make_meeting_case, put_on_agenda

pytestmark = pytest.mark.django_db


def _version(meeting) -> int:
    return Meeting.objects.get(pk=meeting.pk).version


def _second_item(personas, meeting) -> AgendaItem:
    case = make_meeting_case(lead_organization=personas.window_a, lead_worker=personas.caseworker_a, family_name="森")
    give_layered_consent(case, by=personas.caseworker_a)
    return put_on_agenda(meeting=meeting, case=case, purpose="progress_review", by=personas.chair)


def _lock(personas, meeting) -> None:
    ms.meeting_conclude(meeting=meeting, by=personas.chair)
    ms.minutes_approve(meeting=meeting, by=personas.chair)


# ---------------------------------------------------------------------------
# Editing: services
# ---------------------------------------------------------------------------


def test_the_secretary_edits_the_summary_and_purpose(personas, layered):
    item, before = layered.items.get(), _version(layered)
    saved = ms.agenda_item_edit(
        item=item,
        summary="本人の希望: 日中の居場所",
        purpose="progress_review",
        based_on_version=1,
        by=personas.coordinator,
    )
    saved.refresh_from_db()
    assert saved.summary == "本人の希望: 日中の居場所" and saved.purpose == "progress_review"
    assert saved.version == 2 and _version(layered) == before + 1
    row = AccessLog.objects.filter(object_type="agendaitem", object_id=str(item.pk), action="change").latest("id")
    assert row.actor == personas.coordinator and row.person_ids


def test_a_stale_edit_is_refused_with_the_current_state(personas, layered):
    item = layered.items.get()
    ms.agenda_item_edit(item=item, summary="議長の版", purpose="plan_agreement", based_on_version=1, by=personas.chair)
    with pytest.raises(ms.StaleEdit) as exc:
        ms.agenda_item_edit(
            item=item, summary="書記の古い版", purpose="closure_decision", based_on_version=1, by=personas.coordinator
        )
    assert exc.value.version == 2 and exc.value.summary == "議長の版" and exc.value.purpose == "plan_agreement"
    item.refresh_from_db()
    assert item.summary == "議長の版" and item.purpose == "plan_agreement"


def test_notes_saved_meanwhile_make_the_edit_stale(personas, layered):
    item = layered.items.get()
    ms.agenda_item_note(item=item, notes="記録", based_on_version=1, by=personas.coordinator)
    with pytest.raises(ms.StaleEdit):
        ms.agenda_item_edit(item=item, summary="x", purpose="plan_agreement", based_on_version=1, by=personas.chair)


def test_a_plain_participant_may_not_edit(personas, layered):
    with pytest.raises(PermissionError):
        ms.agenda_item_edit(
            item=layered.items.get(),
            summary="x",
            purpose="plan_agreement",
            based_on_version=1,
            by=personas.caseworker_a,
        )


def test_a_purpose_the_case_already_has_on_the_agenda_is_refused(personas, layered, case_a):
    put_on_agenda(meeting=layered, case=case_a, purpose="progress_review", by=personas.chair)
    item = layered.items.get(purpose="plan_agreement")
    with pytest.raises(ValidationError):
        ms.agenda_item_edit(item=item, summary="", purpose="progress_review", based_on_version=1, by=personas.chair)
    item.refresh_from_db()
    assert item.purpose == "plan_agreement" and item.version == 1


def test_editing_is_refused_once_the_minutes_are_locked(personas, layered):
    item = layered.items.get()
    _lock(personas, layered)
    with pytest.raises(ValidationError):
        ms.agenda_item_edit(
            item=item, summary="後から", purpose="plan_agreement", based_on_version=1, by=personas.chair
        )
    item.refresh_from_db()
    assert item.summary != "後から"


# ---------------------------------------------------------------------------
# Editing: the screen
# ---------------------------------------------------------------------------


def test_the_chair_and_secretary_edit_on_the_screen(personas, layered, login):
    item = layered.items.get()
    url = reverse("meetings:item_edit", args=[layered.pk, item.pk])
    for user, summary in [(personas.chair, "議長が直した概要"), (personas.coordinator, "書記が直した概要")]:
        client = login(user)
        assert client.get(url).status_code == 200
        item.refresh_from_db()
        response = client.post(
            url, {"purpose": "progress_review", "summary": summary, "based_on_version": item.version}
        )
        assert response.status_code == 302 and response["Location"] == reverse("meetings:detail", args=[layered.pk])
        item.refresh_from_db()
        assert item.summary == summary
    html = login(personas.caseworker_a).get(reverse("meetings:item", args=[layered.pk, item.pk])).content.decode()
    assert "書記が直した概要" in html and "経過評価" in html


def test_a_plain_participant_gets_403_an_outsider_404_and_anonymous_the_login(personas, layered, login, client):
    item = layered.items.get()
    url = reverse("meetings:item_edit", args=[layered.pk, item.pk])
    assert login(personas.caseworker_a).get(url).status_code == 403
    for who in ["caseworker_b", "supervisor_a", "place_staff", "auditor", "administrator"]:
        assert login(getattr(personas, who)).get(url).status_code == 404, who
        response = login(getattr(personas, who)).post(
            url, {"purpose": "progress_review", "summary": "x", "based_on_version": 1}
        )
        assert response.status_code == 404, who
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    item.refresh_from_db()
    assert item.version == 1


def test_the_stale_form_shows_the_saved_version_and_keeps_what_was_typed(personas, layered, login):
    item = layered.items.get()
    ms.agenda_item_edit(
        item=item, summary="先に保存された概要", purpose="plan_agreement", based_on_version=1, by=personas.coordinator
    )
    response = login(personas.chair).post(
        reverse("meetings:item_edit", args=[layered.pk, item.pk]),
        {"purpose": "closure_decision", "summary": "私が書いた概要", "based_on_version": 1},
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "先に保存された概要" in html and "私が書いた概要" in html and "プラン協議・承認" in html
    item.refresh_from_db()
    assert item.summary == "先に保存された概要"


def test_bad_input_gets_a_message_not_a_500(personas, layered, case_a, login):
    item = layered.items.get()
    url = reverse("meetings:item_edit", args=[layered.pk, item.pk])
    client = login(personas.chair)
    response = client.post(url, {"purpose": "nonsense", "summary": "x", "based_on_version": 1})
    assert response.status_code == 200 and "正しく選択" in response.content.decode()
    response = client.post(
        url,
        "purpose=plan_agreement&summary=a%ED%A0%80b&based_on_version=1",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200 and "使用できない文字" in response.content.decode()
    put_on_agenda(meeting=layered, case=case_a, purpose="progress_review", by=personas.chair)
    response = client.post(url, {"purpose": "progress_review", "summary": "x", "based_on_version": 1})
    assert response.status_code == 200 and "同じ目的ですでに議題にあります" in response.content.decode()
    item.refresh_from_db()
    assert item.version == 1 and item.purpose == "plan_agreement"


def test_the_screen_refuses_once_the_minutes_are_locked(personas, layered, login):
    item = layered.items.get()
    _lock(personas, layered)
    url = reverse("meetings:item_edit", args=[layered.pk, item.pk])
    client = login(personas.chair)
    response = client.post(url, {"purpose": "plan_agreement", "summary": "後から", "based_on_version": 1}, follow=True)
    assert response.status_code == 200 and "議事録が確定" in response.content.decode()
    item.refresh_from_db()
    assert item.summary != "後から"


def test_an_item_whose_consent_was_withdrawn_is_neither_shown_nor_changed(personas, layered, case_a, login):
    from django.utils import timezone

    from casework.services.consent import consent_withdraw

    item = layered.items.get()
    ms.agenda_item_note(item=item, notes="秘密の記録", based_on_version=1, by=personas.coordinator)
    consent = case_a.person.consents.get()
    consent_withdraw(consent=consent, withdrawn_on=timezone.localdate(), by=personas.caseworker_a)
    with pytest.raises(ValidationError):
        ms.agenda_item_edit(item=item, summary="x", purpose="plan_agreement", based_on_version=2, by=personas.chair)
    with pytest.raises(ValidationError):
        ms.agenda_item_note(item=item, notes="追記", based_on_version=2, by=personas.chair)
    client = login(personas.chair)
    for name in ["meetings:item_edit", "meetings:notes"]:
        response = client.get(reverse(name, args=[layered.pk, item.pk]), follow=True)
        html = response.content.decode()
        assert response.status_code == 200 and "本人同意が確認できない" in html, name
        assert "秘密の記録" not in html and case_a.summary not in html, name
    item.refresh_from_db()
    assert item.version == 2 and item.notes == "秘密の記録"


# ---------------------------------------------------------------------------
# Removing
# ---------------------------------------------------------------------------


def test_the_chair_removes_an_undecided_item_and_the_rest_is_renumbered(personas, layered):
    first = layered.items.get()
    second = _second_item(personas, layered)
    ms.agenda_set_current(meeting=layered, item=first, by=personas.chair)
    before = _version(layered)
    ms.agenda_item_remove(item=first, by=personas.chair)
    meeting = Meeting.objects.get(pk=layered.pk)
    assert list(meeting.items.values_list("pk", "order")) == [(second.pk, 1)]
    assert meeting.current_item_id is None and meeting.version == before + 1
    row = AccessLog.objects.filter(object_type="agendaitem", object_id=str(first.pk)).latest("id")
    assert row.actor == personas.chair and row.action == "change"


def test_an_item_with_a_decision_or_notes_stays(personas, layered):
    item = layered.items.get()
    ms.agenda_item_note(item=item, notes="話し合った", based_on_version=1, by=personas.coordinator)
    with pytest.raises(ValidationError):
        ms.agenda_item_remove(item=item, by=personas.chair)
    other = _second_item(personas, layered)
    ms.meeting_decide(item=other, kind="other", text="情報共有", by=personas.chair)
    with pytest.raises(ValidationError):
        ms.agenda_item_remove(item=other, by=personas.chair)
    assert layered.items.count() == 2


def test_only_the_chair_removes(personas, layered):
    with pytest.raises(PermissionError):
        ms.agenda_item_remove(item=layered.items.get(), by=personas.coordinator)
    assert layered.items.exists()


def test_removal_is_refused_after_the_meeting_ends_and_once_locked(personas, layered):
    item = layered.items.get()
    ms.meeting_conclude(meeting=layered, by=personas.chair)
    with pytest.raises(ValidationError):
        ms.agenda_item_remove(item=item, by=personas.chair)
    ms.minutes_approve(meeting=layered, by=personas.chair)
    with pytest.raises(ValidationError):
        ms.agenda_item_remove(item=item, by=personas.chair)
    assert layered.items.exists()


def test_the_agenda_screen_removes_and_refuses_with_a_message(personas, layered, login):
    item = layered.items.get()
    other = _second_item(personas, layered)
    ms.meeting_decide(item=other, kind="other", text="情報共有", by=personas.chair)
    url = reverse("meetings:agenda", args=[layered.pk])
    html = login(personas.chair).get(url).content.decode()
    assert html.count('value="remove"') == 1
    response = login(personas.chair).post(url, {"action": "remove", "item": other.pk}, follow=True)
    assert "決定が記録された議題は削除できません" in response.content.decode()
    assert login(personas.caseworker_a).post(url, {"action": "remove", "item": item.pk}).status_code == 403
    assert login(personas.caseworker_b).post(url, {"action": "remove", "item": item.pk}).status_code == 404
    response = login(personas.chair).post(url, {"action": "remove", "item": item.pk})
    assert response.status_code == 302
    assert list(layered.items.values_list("pk", flat=True)) == [other.pk]
