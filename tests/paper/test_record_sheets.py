"""アセスメントシート, プランシート, 同意書 (blank and recorded) and 支援経過記録 for a period."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from django.urls import reverse
from django.utils import timezone

from casework.assessment import SCHEMAS
from casework.models import AccessLog, Consent
from casework.services.cases import case_team_add
from casework.services.consent import consent_record, consent_withdraw
from casework.services.plans import assessment_record, contact_record_create, plan_create, plan_role_add
from tests.factories import PersonFactory, make_case
from tests.paper.helpers import last_row, pdf_text, save_page_one

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(personas):
    person = PersonFactory(family_name="髙橋", given_name="𠮷子", gender="female", birth_date=date(1950, 2, 3))
    case = make_case(lead_organization=personas.window_a, by=personas.caseworker_a, persons=[person])
    consent = consent_record(
        person=person,
        case=case,
        given_on=date(2025, 4, 1),
        method=Consent.Method.WRITTEN,
        explained_by=personas.caseworker_a,
        document_version="令和7年度版",
        scope_kind=Consent.ScopeKind.NAMED,
        organizations=[personas.coordinator_org],
        purposes=["share_with_agencies", "layered_meeting"],
        valid_until=date(2027, 3, 31),
        by=personas.caseworker_a,
    )
    case_team_add(case=case, organization=personas.coordinator_org, by=personas.caseworker_a)
    assessment = assessment_record(
        case=case,
        checklist={key: ("urgent" if key == "care" else "none") for key, _ in SCHEMAS[1]},
        narrative="所見マーカー：介護負担が大きい",
        assessed_on=date(2025, 4, 10),
        by=personas.caseworker_a,
    )
    plan = plan_create(
        case=case,
        goals="目標マーカー：介護サービスの利用開始",
        period_start=date(2025, 5, 1),
        period_end=date(2025, 10, 31),
        next_review_on=date(2025, 8, 1),
        by=personas.caseworker_a,
    )
    plan_role_add(
        plan=plan, organization=personas.window_a, role="主担当・介護調整", actions="認定申請", by=personas.caseworker_a
    )
    plan_role_add(plan=plan, organization=personas.coordinator_org, role="多機関協働", by=personas.caseworker_a)

    def at(d):
        return timezone.make_aware(datetime.combine(d, time(10, 0)))

    for d, text in [
        (date(2025, 3, 1), "三月の記録"),
        (date(2025, 6, 15), "六月の記録"),
        (date(2025, 9, 1), "九月の記録"),
    ]:
        contact_record_create(case=case, occurred_at=at(d), kind="visit", summary=text, by=personas.caseworker_a)
    return case, person, consent, assessment, plan


def test_the_assessment_sheet_ticks_the_answers_and_holds_the_findings(login, personas, world):
    case, person, consent, assessment, plan = world
    response = login(personas.caseworker_a).get(reverse("casework:pdf_assessment_sheet", args=[case.pk, assessment.pk]))
    text = pdf_text(response)
    save_page_one(response, "assessment_sheet")
    assert "アセスメントシート" in text and "令和7年4月10日" in text and "所見マーカー" in text
    assert "介護・障害" in text and "緊急性あり" in text and "髙橋𠮷子" in text
    assert "取扱注意（要配慮個人情報）" in text
    row = last_row(personas.caseworker_a, "assessment")
    assert row.action == AccessLog.Action.EXPORT and row.object_id == str(assessment.pk)


def test_the_plan_sheet_has_goals_roles_period_review_and_signature_boxes(login, personas, world):
    case, person, consent, assessment, plan = world
    response = login(personas.coordinator).get(reverse("casework:pdf_plan_sheet", args=[case.pk, plan.pk]))
    text = pdf_text(response)
    save_page_one(response, "plan_sheet")
    assert "支援プラン" in text and "プランシート" in text and "目標マーカー" in text
    assert "令和7年5月1日〜令和7年10月31日" in text and "令和7年8月1日" in text
    assert personas.window_a.name.replace(" ", "") in text and "主担当・介護調整" in text and "多機関協働" in text
    assert "本人署名" in text and "同意日" in text and "説明を受け、内容に同意します" in text
    assert last_row(personas.coordinator, "supportplan").action == AccessLog.Action.EXPORT
    html = login(personas.caseworker_a).get(reverse("casework:print_plan_sheet", args=[case.pk, plan.pk])).content
    assert b"<button" not in html and b"<form" not in html
    assert last_row(personas.caseworker_a, "supportplan").action == AccessLog.Action.PRINT


def test_the_consent_form_prints_blank_for_signing_and_as_recorded_with_its_id(login, personas, world):
    case, person, consent, assessment, plan = world
    client = login(personas.caseworker_a)
    blank = pdf_text(client.get(reverse("casework:pdf_consent_blank", args=[case.pk, person.pk])))
    assert "情報共有に関する同意書" in blank and "署名用" in blank and "髙橋𠮷子" in blank
    assert "□関係機関との情報共有" in blank and "■" not in blank and "同意#" not in blank
    assert "いつでも撤回できます" in blank and "有効期限" in blank
    assert last_row(personas.caseworker_a, "person").action == AccessLog.Action.EXPORT
    response = client.get(reverse("casework:pdf_consent_sheet", args=[case.pk, consent.pk]))
    recorded = pdf_text(response)
    save_page_one(response, "consent_recorded")
    assert f"同意#{consent.pk}" in recorded and "記録された同意の写し" in recorded
    assert (
        "■関係機関との情報共有" in recorded
        and "■重層的支援会議での検討" in recorded
        and "□参加支援先への紹介" in recorded
    )
    assert "令和7年4月1日" in recorded and "令和9年3月31日まで" in recorded and "令和7年度版" in recorded
    assert personas.coordinator_org.name.replace(" ", "") in recorded
    consent_withdraw(consent=consent, withdrawn_on=date(2025, 6, 1), note="撤回", by=personas.caseworker_a)
    withdrawn = pdf_text(client.get(reverse("casework:pdf_consent_sheet", args=[case.pk, consent.pk])))
    assert "令和7年6月1日に撤回されています" in withdrawn


def test_only_the_lead_organization_prints_the_form_to_sign(login, personas, world):
    case, person, *_ = world
    url = reverse("casework:pdf_consent_blank", args=[case.pk, person.pk])
    assert login(personas.coordinator).get(url).status_code == 404
    assert login(personas.caseworker_b).get(url).status_code == 404
    stranger = PersonFactory()
    assert (
        login(personas.caseworker_a).get(reverse("casework:pdf_consent_blank", args=[case.pk, stranger.pk])).status_code
        == 404
    )


def test_the_contact_record_prints_the_chosen_period_in_wareki(login, personas, world):
    case, *_ = world
    client = login(personas.caseworker_a)
    url = reverse("casework:pdf_contact_sheet", args=[case.pk])
    response = client.get(url, {"start": "令和７年４月１日", "end": "R7.7.31"})
    text = pdf_text(response)
    save_page_one(response, "contact_records")
    assert "支援経過記録" in text and "令和7年4月1日〜令和7年7月31日" in text
    assert "六月の記録" in text and "三月の記録" not in text and "九月の記録" not in text
    row = last_row(personas.caseworker_a, "contact_records")
    assert row.action == AccessLog.Action.EXPORT
    everything = pdf_text(client.get(url))
    assert "三月の記録" in everything and "九月の記録" in everything


@pytest.mark.parametrize(
    "query", [{"start": "令和99年13月1日"}, {"start": "2025-09-01", "end": "2025-01-01"}, {"end": "x" * 50}]
)
def test_a_bad_period_gets_a_japanese_message_not_a_500(login, personas, world, query):
    case, *_ = world
    response = login(personas.caseworker_a).get(reverse("casework:print_contact_sheet", args=[case.pk]), query)
    assert response.status_code == 400
    assert "入力内容を確認してください" in response.content.decode()


@pytest.mark.parametrize(
    "name,key", [("pdf_assessment_sheet", "assessment"), ("pdf_plan_sheet", "plan"), ("pdf_consent_sheet", "consent")]
)
def test_another_window_gets_404_for_each_record_sheet(login, personas, world, name, key):
    case, person, consent, assessment, plan = world
    record = {"assessment": assessment, "plan": plan, "consent": consent}[key]
    url = reverse(f"casework:{name}", args=[case.pk, record.pk])
    for outsider in (personas.caseworker_b, personas.place_staff, personas.auditor):
        assert login(outsider).get(url).status_code == 404
    assert login(personas.supervisor_a).get(url).status_code == 200
