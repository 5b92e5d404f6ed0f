"""つなぎシート (exactly the receiver's card) and 会議録 for both meeting kinds."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from casework.models import AccessLog
from casework.services.consent import consent_withdraw
from meetings import services as ms
from tests.factories import (
    give_layered_consent,
    make_case,
    make_meeting,
    make_meeting_case,
    make_referral,
    put_on_agenda,
)
from tests.paper.helpers import last_row, pdf_text, save_page_one

pytestmark = pytest.mark.django_db


@pytest.fixture
def participation(personas, place):
    case = make_case(
        lead_organization=personas.window_a,
        by=personas.caseworker_a,
        family_name="𠮷髙",
        given_name="非公開名マーカー",
        birth_date=date(1972, 1, 20),
        street="非公開住所マーカー",
    )
    case.summary = "主訴マーカー：長年ひきこもり"
    case.save()
    return case, make_referral(
        kind="participation",
        case=case,
        by=personas.caseworker_a,
        sender=personas.window_a,
        place=place,
        card_preferred_name="いっちゃん",
        card_age_band="50代",
        card_wishes="コーヒーを淹れる手伝いをしたい",
        card_accommodations="大人数が苦手。午前のみ",
        card_schedule="水曜の午前",
        card_contact="地域包括 佐藤 03-0000-0000",
        request_text="見学の受け入れをお願いします",
    )


def test_the_place_prints_exactly_its_card(login, personas, participation):
    case, referral = participation
    client = login(personas.place_staff)
    response = client.get(reverse("referrals:pdf_sheet", args=[referral.pk]))
    text = pdf_text(response)
    save_page_one(response, "tsunagi_sheet")
    assert "つなぎシート" in text and "参加支援の紹介状" in text
    for field in [
        "いっちゃん",
        "50代",
        "コーヒーを淹れる手伝いをしたい",
        "大人数が苦手。午前のみ",
        "水曜の午前",
        "見学の受け入れをお願いします",
    ]:
        assert field in text, field
    for withheld in ["𠮷髙", "非公開名マーカー", "非公開住所マーカー", "主訴マーカー", case.number, "昭和47", "1972"]:
        assert withheld not in text, withheld
    assert "取扱注意（要配慮個人情報）" in text and "出力者" in text
    row = last_row(personas.place_staff, "referral")
    assert row.action == AccessLog.Action.EXPORT and row.object_id == str(referral.pk)
    html = client.get(reverse("referrals:print_sheet", args=[referral.pk])).content.decode()
    assert "<button" not in html and "<form" not in html and case.number not in html
    assert last_row(personas.place_staff, "referral").action == AccessLog.Action.PRINT


def test_outsiders_get_404_for_the_sheet(login, personas, participation):
    _case, referral = participation
    url = reverse("referrals:pdf_sheet", args=[referral.pk])
    for outsider in (personas.caseworker_b, personas.auditor, personas.administrator):
        assert login(outsider).get(url).status_code == 404
    assert login(personas.caseworker_a).get(url).status_code == 200


def test_a_withdrawn_consent_takes_the_sheet_away_from_the_place(login, personas, participation):
    case, referral = participation
    consent = case.subjects.first().consents.get()
    consent_withdraw(consent=consent, withdrawn_on=timezone.localdate(), by=personas.caseworker_a)
    assert login(personas.place_staff).get(reverse("referrals:pdf_sheet", args=[referral.pk])).status_code == 404


@pytest.fixture
def layered_with_two(personas):
    shown = make_meeting_case(
        lead_organization=personas.window_a, lead_worker=personas.caseworker_a, state="planning", family_name="髙田"
    )
    give_layered_consent(shown, by=personas.caseworker_a)
    hidden = make_meeting_case(
        lead_organization=personas.window_a, lead_worker=personas.caseworker_a, state="planning", family_name="撤回"
    )
    give_layered_consent(hidden, by=personas.caseworker_a)
    meeting = make_meeting(
        chair=personas.chair,
        secretary=personas.coordinator,
        participants=[personas.caseworker_a],
        kind="layered_meeting",
    )
    item = put_on_agenda(meeting=meeting, case=shown, purpose="progress_review", by=personas.chair)
    gone = put_on_agenda(meeting=meeting, case=hidden, purpose="progress_review", by=personas.chair)
    ms.agenda_item_note(item=item, notes="検討マーカー：通所が定着", based_on_version=item.version, by=personas.chair)
    ms.meeting_decide(
        item=item,
        kind="next_review",
        next_review_on=date(2030, 4, 1),
        by=personas.chair,
        actions=[
            {"organization": personas.window_a, "text": "対応マーカー：家計相談の予約", "due_on": date(2030, 3, 1)}
        ],
    )
    gone.refresh_from_db()
    ms.agenda_item_note(item=gone, notes="撤回マーカー", based_on_version=gone.version, by=personas.chair)
    consent_withdraw(
        consent=hidden.subject_rows.first().person.consents.get(),
        withdrawn_on=timezone.localdate(),
        by=personas.caseworker_a,
    )
    return meeting, shown, hidden


def test_the_layered_minutes_hold_attendance_items_decisions_and_actions_and_leave_out_withdrawn_items(
    login, personas, layered_with_two
):
    meeting, shown, hidden = layered_with_two
    response = login(personas.caseworker_a).get(reverse("meetings:pdf_minutes", args=[meeting.pk]))
    text = pdf_text(response)
    save_page_one(response, "minutes_layered")
    assert "重層的支援会議" in text and "会議録" in text
    assert "渡邊六子（議長）" in text and "田中四郎（書記）" in text and "佐藤一郎" in text
    assert shown.number in text and "検討マーカー：通所が定着" in text
    assert "次回見直し日" in text and "令和12年4月1日" in text
    assert "対応マーカー：家計相談の予約" in text and "令和12年3月1日" in text
    assert hidden.number not in text and "撤回マーカー" not in text
    assert "1件の議題を掲載していません" in text
    row = last_row(personas.caseworker_a, "meeting")
    assert row.action == AccessLog.Action.EXPORT and row.basis == AccessLog.Basis.CONSENT
    assert shown.subject_rows.first().person_id in row.person_ids
    assert hidden.subject_rows.first().person_id not in row.person_ids


def test_the_support_meeting_minutes_carry_the_pledges_and_the_statutory_note(login, personas):
    case = make_meeting_case(lead_organization=personas.window_a, lead_worker=personas.caseworker_a)
    meeting = make_meeting(chair=personas.chair, kind="support_meeting", participants=[personas.caseworker_a])
    put_on_agenda(meeting=meeting, case=case, purpose="information_sharing", by=personas.chair)
    response = login(personas.chair).get(reverse("meetings:pdf_minutes", args=[meeting.pk]))
    text = pdf_text(response)
    save_page_one(response, "minutes_support")
    assert "支援会議" in text and "社会福祉法第106条の6" in text and "守秘義務の誓約" in text
    assert case.number in text
    row = last_row(personas.chair, "meeting")
    assert row.basis == AccessLog.Basis.SUPPORT_MEETING
    html = login(personas.chair).get(reverse("meetings:print_minutes", args=[meeting.pk])).content.decode()
    assert "<button" not in html and "<form" not in html


def test_non_participants_get_404_for_the_minutes(login, personas, layered_with_two):
    meeting, *_ = layered_with_two
    for outsider in (personas.caseworker_b, personas.place_staff, personas.auditor):
        assert login(outsider).get(reverse("meetings:pdf_minutes", args=[meeting.pk])).status_code == 404
