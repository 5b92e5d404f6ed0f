"""開示請求: the request's deadlines and decision, and a package with the person's data and no third party's."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from casework.models import AccessLog, DisclosureRequest
from casework.services.disclosure_requests import disclosure_request_open
from casework.services.persons import household_add_member
from casework.services.plans import contact_record_create, plan_create
from tests.factories import PersonFactory, make_case, make_consent, make_meeting, make_referral, put_on_agenda

pytestmark = pytest.mark.django_db

THIRD = "漏洩花子"


@pytest.fixture
def planted(personas):
    """A subject with a case, consent, plan, contact records, a referral and a meeting item; a third party beside them."""
    cw = personas.caseworker_a
    case = make_case(
        lead_organization=personas.window_a,
        by=cw,
        family_name="開示",
        given_name="一郎",
        family_name_kana="カイジ",
        given_name_kana="イチロウ",
        birth_date=datetime.date(1960, 5, 5),
    )
    me = case.subject_rows.get().person
    third = PersonFactory(
        family_name="漏洩",
        given_name="花子",
        family_name_kana="ロウエイ",
        given_name_kana="ハナコ",
        birth_date=datetime.date(1931, 3, 3),
        phone="099-9999-0000",
    )
    household_add_member(household=case.household, person=third, relationship="parent", by=cw)
    make_consent(person=third, organizations=[personas.window_b], purposes=["share_with_agencies"], by=cw, case=case)
    plan_create(case=case, goals="本人が日中の居場所を見つける", by=cw)
    now = timezone.now()
    contact_record_create(
        case=case, occurred_at=now, kind="visit", summary=f"母の{THIRD}さんが同席。本人は元気。", by=cw
    )
    contact_record_create(case=case, occurred_at=now, kind="phone", summary="本人と電話で話した", by=cw, person=me)
    contact_record_create(
        case=case, occurred_at=now, kind="visit", summary="母の通院の相談（第三者の記録）", by=cw, person=third
    )
    referral = make_referral(
        case=case, by=cw, sender=personas.window_a, receiver=personas.coordinator_org, card_wishes="料理をしたい"
    )
    meeting = make_meeting(chair=personas.chair, kind="support_meeting", participants=[cw])
    put_on_agenda(
        meeting=meeting, case=case, purpose="information_sharing", by=personas.chair, summary="会議での共有事項"
    )
    return {"case": case, "me": me, "third": third, "referral": referral}


def _open(personas, person, days_ago=0):
    return disclosure_request_open(
        person=person,
        received_on=timezone.localdate() - datetime.timedelta(days=days_ago),
        requester="self",
        by=personas.auditor,
    )


def test_the_decision_is_due_thirty_days_after_receipt(personas, planted):
    req = _open(personas, planted["me"], days_ago=31)
    assert req.due_on == req.received_on + datetime.timedelta(days=30)
    assert req.is_overdue


def test_the_package_holds_the_person_s_data_and_none_of_the_planted_third_party_s(personas, planted, login):
    req = _open(personas, planted["me"])
    client = login(personas.auditor)
    page = client.get(req.get_absolute_url()).content.decode()
    # The flagged passage is shown for review; the CSV waits until every flag is reviewed.
    assert "要確認" in page and "未確認の箇所があるため" in page
    assert client.get(reverse("casework:disclosure_package_csv", args=[req.pk])).status_code == 302
    from casework.disclosure_package import build_package

    flagged = [i for i in build_package(planted["me"]) if i.flags]
    assert [i.key.split(":")[0] for i in flagged] == ["contactrecord"]
    client.post(req.get_absolute_url(), {"action": "withhold", "item_key": flagged[0].key})
    response = client.get(reverse("casework:disclosure_package_csv", args=[req.pk]))
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    body = "\n".join(",".join(r) for r in rows)
    # The person's own data, every section.
    for expected in (
        "開示\u3000一郎",
        "昭和35年5月5日",
        planted["case"].number,
        "本人が日中の居場所を見つける",
        "本人と電話で話した",
        "料理をしたい",
        "会議での共有事項",
        "同意",
    ):
        assert expected in body, expected
    assert "■■■さんが同席" in body
    # None of the third party's: name, birth date, phone, their own consent and contact record.
    assert THIRD not in body and "漏洩" not in body and "花子" not in body
    assert "昭和6年3月3日" not in body and "099-9999-0000" not in body
    assert "第三者の記録" not in body and "ロウエイ" not in body


def test_the_package_lists_every_access_log_row_about_the_person(personas, planted, login):
    req = _open(personas, planted["me"])
    client = login(personas.auditor)
    about = [r for r in AccessLog.objects.all() if planted["me"].pk in (r.person_ids or [])]
    client.post(req.get_absolute_url(), {"action": "release", "item_key": "x"})  # unknown key: 404, nothing saved
    from casework.disclosure_package import build_package

    for item in build_package(planted["me"]):
        if item.flags:
            client.post(req.get_absolute_url(), {"action": "release", "item_key": item.key})
    response = client.get(reverse("casework:disclosure_package_csv", args=[req.pk]))
    rows = [r for r in csv.reader(io.StringIO(response.content.decode("utf-8-sig"))) if r[0] == "アクセス記録"]
    assert len(rows) >= len(about) > 0
    assert any("根拠: 自機関・ケースチーム" in r[3] for r in rows)
    assert any("佐藤 一郎（cw_a）" in r[3] for r in rows)


def test_decisions_need_every_flag_reviewed_and_reasons_for_partial_disclosure(personas, planted, login):
    req = _open(personas, planted["me"])
    client = login(personas.auditor)
    today = timezone.localdate().isoformat()
    client.post(req.get_absolute_url(), {"action": "decide", "decision": "full", "decided_on": today})
    req.refresh_from_db()
    assert not req.decision
    from casework.disclosure_package import build_package

    key = next(i.key for i in build_package(planted["me"]) if i.flags)
    client.post(req.get_absolute_url(), {"action": "withhold", "item_key": key})
    client.post(req.get_absolute_url(), {"action": "decide", "decision": "partial", "decided_on": today})
    req.refresh_from_db()
    assert not req.decision  # no reason given
    client.post(
        req.get_absolute_url(),
        {"action": "decide", "decision": "partial", "decided_on": today, "reason": "第三者の氏名を含むため一部不開示"},
    )
    req.refresh_from_db()
    assert req.decision == DisclosureRequest.Decision.PARTIAL and req.decided_by == personas.auditor


def test_the_deadline_is_extended_with_a_reason_within_thirty_more_days(personas, planted, login):
    req = _open(personas, planted["me"])
    client = login(personas.auditor)
    late = (req.due_on + datetime.timedelta(days=31)).isoformat()
    client.post(req.get_absolute_url(), {"action": "extend", "extended_due_on": late, "reason": "量が多いため"})
    req.refresh_from_db()
    assert req.extended_due_on is None
    ok = (req.due_on + datetime.timedelta(days=30)).isoformat()
    client.post(req.get_absolute_url(), {"action": "extend", "extended_due_on": ok, "reason": "量が多いため"})
    req.refresh_from_db()
    assert req.deadline == req.due_on + datetime.timedelta(days=30) and req.extension_reason == "量が多いため"


def test_privacy_officers_find_the_requester_by_reading_and_birth_date_and_every_step_is_logged(
    personas, planted, login
):
    client = login(personas.auditor)
    page = client.get(
        reverse("casework:disclosure_requests"), {"kana": "かいじ いちろう", "birth_date": "昭和35年5月5日"}
    )
    assert "開示\u3000一郎" in page.content.decode()
    assert AccessLog.objects.filter(action="search", person_ids=[planted["me"].pk]).exists()
    response = client.post(
        reverse("casework:disclosure_requests"),
        {"person": planted["me"].pk, "received_on": "令和８年１２月１日", "requester": "self"},
    )
    req = DisclosureRequest.objects.get()
    assert response["Location"] == req.get_absolute_url()
    assert req.received_on == datetime.date(2026, 12, 1)
    client.get(req.get_absolute_url())
    logged = AccessLog.objects.filter(object_type="disclosurerequest", object_id=str(req.pk))
    assert {r.action for r in logged} >= {"create", "view"}
    assert all(r.basis == "audit" and r.basis_ref == f"disclosure_request:{req.pk}" for r in logged)


def test_only_privacy_officers_reach_the_screens(personas, planted, login):
    req = _open(personas, planted["me"])
    for user in (personas.caseworker_a, personas.supervisor_a, personas.administrator, personas.place_staff):
        c = login(user)
        assert c.get(reverse("casework:disclosure_requests")).status_code == 404
        assert c.get(req.get_absolute_url()).status_code == 404
        assert c.get(reverse("casework:disclosure_package_csv", args=[req.pk])).status_code == 404


def test_the_released_package_is_also_a_pdf(personas, planted, login):
    from casework.disclosure_package import build_package

    req = _open(personas, planted["me"])
    client = login(personas.auditor)
    for item in build_package(planted["me"]):
        if item.flags:
            client.post(req.get_absolute_url(), {"action": "withhold", "item_key": item.key})
    response = client.get(reverse("casework:disclosure_package_pdf", args=[req.pk]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert AccessLog.objects.filter(object_id=str(req.pk), action="export").exists()
