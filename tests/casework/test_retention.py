"""Retention and disposal: the daily list, legal holds, the two-person decision, tombstones and the file ledger."""

from __future__ import annotations

import datetime
import json
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from casework.choices import Role
from casework.models import (
    AccessLog,
    Case,
    Consent,
    ContactRecord,
    DisposalDecision,
    DisposalItem,
    DisposalTombstone,
    Household,
    LegalHold,
    MigrationSource,
    Person,
    RetentionCandidate,
    RetentionRule,
    RetentionRun,
)
from casework.retention import cutoff_for, expires_on
from casework.services.cases import case_transition
from casework.services.plans import contact_record_create
from casework.services.retention import (
    disposal_approve,
    disposal_propose,
    disposal_reject,
    legal_hold_release,
    legal_hold_set,
    retention_daily,
    retention_rule_update,
    retention_rules_ensure,
    retention_run,
)
from tests.factories import MembershipFactory, PersonFactory, UserFactory, make_case, make_consent

TODAY = datetime.date(2026, 12, 3)
LONG_AGO = datetime.date(2019, 9, 30)  # 令和元年度: past a five-year rule from 令和7年4月1日
NAME = "廃棄確認"


def _close(case, *, on: datetime.date):
    by = case.lead_worker
    for to in ["assessment", "planning", "in_support"]:
        case = case_transition(case=case, to_state=to, by=by)
    case = case_transition(case=case, to_state="closed", reason="目標を達成したため", by=by)
    Case.objects.filter(pk=case.pk).update(closed_on=on)
    case.refresh_from_db()
    return case


def _old_case(personas, *, closed_on=LONG_AGO, **person):
    person.setdefault("family_name", NAME)
    case = make_case(lead_organization=personas.window_a, by=personas.caseworker_a, **person)
    subject = case.subject_rows.get().person
    make_consent(
        person=subject,
        organizations=[personas.window_b],
        purposes=["share_with_agencies"],
        by=personas.caseworker_a,
        case=case,
    )
    contact_record_create(
        case=case,
        occurred_at=timezone.now() - datetime.timedelta(days=3),
        kind="phone",
        summary=f"{NAME}さんに電話した",
        person=subject,
        by=personas.caseworker_a,
    )
    return _close(case, on=closed_on)


def _second_admin(personas, username="admin2"):
    return MembershipFactory(
        user=UserFactory(username=username, last_name="木村", first_name="拓也"),
        organization=personas.municipal,
        role=Role.ADMINISTRATOR,
    ).user


def _confirm_rules(by, years=5):
    for rule in retention_rules_ensure():
        retention_rule_update(rule=rule, years=years, basis="○○市文書管理規程 別表第2", is_active=True, by=by)


def _propose(personas, *, reason="保存期間の満了"):
    run = retention_run(TODAY)
    return disposal_propose(
        candidates=list(run.candidates.select_related("rule")), reason=reason, by=personas.administrator
    )


@pytest.fixture
def admin2(personas):
    return _second_admin(personas)


# --- the period -------------------------------------------------------------------------------


def test_the_period_counts_from_the_next_fiscal_year_as_public_offices_do():
    assert expires_on(datetime.date(2020, 9, 30), 5) == datetime.date(2026, 4, 1)
    assert expires_on(datetime.date(2021, 3, 31), 5) == datetime.date(2026, 4, 1)
    assert expires_on(datetime.date(2021, 4, 1), 5) == datetime.date(2027, 4, 1)
    # On 2026-12-03 (令和8年度) the five-year list takes what started before 令和3年4月1日.
    assert cutoff_for(5, TODAY) == datetime.date(2021, 4, 1)


def test_every_registered_kind_gets_an_unconfirmed_default_rule(personas):
    rules = retention_rules_ensure()
    assert {r.kind for r in rules} >= {"closed_case"}
    case_rule = RetentionRule.objects.get(kind="closed_case")
    assert case_rule.years == 5 and case_rule.confirmed_at is None and "初期値" in case_rule.basis


# --- the daily list ---------------------------------------------------------------------------


def test_the_run_lists_old_closed_cases_only_and_is_idempotent_for_its_day(personas):
    old = _old_case(personas)
    recent = _old_case(personas, closed_on=datetime.date(2021, 4, 1), family_name="最近")
    open_case = make_case(lead_organization=personas.window_a, by=personas.caseworker_a)
    first = retention_daily(TODAY)
    listed = list(RetentionCandidate.objects.values_list("kind", "object_id", "reference", "anchor_on", "due_on"))
    assert listed == [("closed_case", old.pk, old.number, LONG_AGO, datetime.date(2025, 4, 1))]
    assert retention_daily(TODAY) == first
    assert RetentionRun.objects.count() == 1
    assert (
        list(RetentionCandidate.objects.values_list("kind", "object_id", "reference", "anchor_on", "due_on")) == listed
    )
    assert recent.pk not in {c.object_id for c in RetentionCandidate.objects.all()}
    assert open_case.pk not in {c.object_id for c in RetentionCandidate.objects.all()}


def test_a_held_case_or_person_is_never_listed(personas):
    by_case = _old_case(personas)
    by_person = _old_case(personas, family_name="本人停止")
    legal_hold_set(case_number=by_case.number, reason="審査請求の対応中", by=personas.administrator)
    legal_hold_set(person_id=by_person.subject_rows.get().person_id, reason="訴訟の対応中", by=personas.administrator)
    run = retention_run(TODAY)
    assert run.candidates.count() == 0
    assert run.counts["held"] == 2


def test_a_released_hold_lists_the_case_again_and_goes_with_it(personas, admin2):
    case = _old_case(personas)
    person = case.subject_rows.get().person
    hold = legal_hold_set(case_number=case.number, reason="審査請求の対応中", by=personas.administrator)
    legal_hold_release(hold=hold, reason="裁決が出たため", by=personas.administrator)
    person_hold = legal_hold_set(person_id=person.pk, reason="訴訟の対応中", by=personas.administrator)
    legal_hold_release(hold=person_hold, reason="和解したため", by=personas.administrator)
    assert list(retention_run(TODAY).candidates.values_list("object_id", flat=True)) == [case.pk]
    _confirm_rules(personas.administrator)
    disposal_approve(decision=_propose(personas), by=admin2)
    assert not Case.objects.filter(pk=case.pk).exists() and not Person.objects.filter(pk=person.pk).exists()
    assert not LegalHold.objects.exists()


def test_a_hold_on_a_household_member_holds_the_case(personas, admin2):
    from casework.services.persons import household_add_member

    case = _old_case(personas)
    relative = PersonFactory(family_name="世帯員")
    household_add_member(household=case.household, person=relative, relationship="child", by=personas.caseworker_a)
    _confirm_rules(personas.administrator)
    decision = _propose(personas)
    legal_hold_set(person_id=relative.pk, reason="訴訟の対応中", by=personas.administrator)
    assert retention_run(TODAY).candidates.count() == 0
    disposal_approve(decision=decision, by=admin2)
    assert Case.objects.filter(pk=case.pk).exists() and Person.objects.filter(pk=relative.pk).exists()


def test_a_hold_names_an_existing_case_or_person(personas):
    with pytest.raises(ValidationError):
        legal_hold_set(case_number="R1-999999", reason="理由", by=personas.administrator)
    with pytest.raises(ValidationError):
        legal_hold_set(person_id=10**9, reason="理由", by=personas.administrator)
    with pytest.raises(ValidationError):
        legal_hold_set(case_number="", reason="理由", by=personas.administrator)


# --- the decision -----------------------------------------------------------------------------


def test_an_unconfirmed_default_cannot_be_proposed(personas):
    _old_case(personas)
    with pytest.raises(ValidationError):
        _propose(personas)
    assert DisposalDecision.objects.count() == 0


def test_disposal_needs_two_different_administrators(personas, admin2):
    case = _old_case(personas)
    _confirm_rules(personas.administrator)
    decision = _propose(personas)
    with pytest.raises(ValidationError, match="自分が起案した廃棄は承認できません"):
        disposal_approve(decision=decision, by=personas.administrator)
    assert Case.objects.filter(pk=case.pk).exists()
    refused = AccessLog.objects.get(action="dispose", outcome="denied")
    assert refused.actor == personas.administrator and refused.object_id == str(decision.pk)
    # A caseworker is no administrator at all.
    with pytest.raises(Exception, match="システム管理者"):
        disposal_approve(decision=decision, by=personas.caseworker_a)
    disposal_approve(decision=decision, by=admin2)
    assert not Case.objects.filter(pk=case.pk).exists()
    decision.refresh_from_db()
    assert (decision.status, decision.proposed_by, decision.decided_by) == ("approved", personas.administrator, admin2)


def test_the_database_refuses_an_approval_by_the_proposer(personas):
    from django.db import IntegrityError, transaction

    decision = DisposalDecision.objects.create(reason="x", proposed_by=personas.administrator)
    with pytest.raises(IntegrityError), transaction.atomic():
        DisposalDecision.objects.filter(pk=decision.pk).update(status="approved", decided_by=personas.administrator)


def test_disposal_deletes_the_content_keeps_the_tombstone_and_the_access_log(personas, admin2):
    case = _old_case(personas)
    subject = case.subject_rows.get().person
    household_id = case.household_id
    consent_ids = list(Consent.objects.filter(case=case).values_list("pk", flat=True))
    contact_ids = list(ContactRecord.objects.filter(case=case).values_list("pk", flat=True))
    _confirm_rules(personas.administrator)
    before = set(AccessLog.objects.values_list("pk", "hash"))
    about_person = AccessLog.objects.filter(person_ids__contains=[subject.pk]).count()
    assert about_person > 0
    decision = _propose(personas)
    disposal_approve(decision=decision, by=admin2, note="確認済み")

    assert not Case.objects.filter(pk=case.pk).exists()
    assert not Person.objects.filter(pk=subject.pk).exists()
    assert not Household.objects.filter(pk=household_id).exists()
    assert not Consent.objects.filter(pk__in=consent_ids).exists()
    assert not ContactRecord.objects.filter(pk__in=contact_ids).exists()
    # Every access-log row written before is still there, unchanged; the disposal added its own.
    assert before <= set(AccessLog.objects.values_list("pk", "hash"))
    assert AccessLog.objects.filter(person_ids__contains=[subject.pk]).count() > about_person
    row = AccessLog.objects.get(action="dispose", outcome="allowed")
    assert row.actor == admin2 and subject.pk in row.person_ids

    stone = DisposalTombstone.objects.get()
    assert (stone.kind, stone.object_id, stone.reference, stone.anchor_on) == (
        "closed_case",
        case.pk,
        case.number,
        LONG_AGO,
    )
    assert stone.decision == decision and stone.rule.kind == "closed_case" and stone.rule_years == 5
    assert stone.removed["ケース"] == 1 and stone.removed["支援経過記録"] == 1 and stone.removed["同意"] == 1
    assert stone.removed["本人・世帯員"] == 1
    text = json.dumps([stone.reference, stone.removed], ensure_ascii=False)
    assert NAME not in text and subject.family_name_kana not in text
    assert DisposalItem.objects.get().outcome == "disposed"
    # Nothing left to list, nothing left to propose.
    assert retention_run(TODAY).candidates.count() == 0


def test_a_person_still_on_another_case_is_kept(personas, admin2):
    case = _old_case(personas)
    subject = case.subject_rows.get().person
    make_case(lead_organization=personas.window_a, by=personas.caseworker_a, persons=[subject])
    _confirm_rules(personas.administrator)
    disposal_approve(decision=_propose(personas), by=admin2)
    assert not Case.objects.filter(pk=case.pk).exists()
    assert Person.objects.filter(pk=subject.pk, family_name=NAME).exists()


def test_a_referral_and_its_attendance_and_a_meeting_item_go_with_the_case(personas, admin2, place):
    from meetings.models import AgendaItem
    from places.models import Attendance
    from referrals import services as rs
    from referrals.models import Referral
    from tests.factories import make_meeting, make_referral, put_on_agenda

    case = make_case(lead_organization=personas.window_a, by=personas.caseworker_a, family_name=NAME)
    referral = make_referral(
        kind="participation", case=case, by=personas.caseworker_a, sender=personas.window_a, place=place
    )
    referral = rs.referral_move(move="accept", referral=referral, by=personas.place_staff)
    from referrals.integration import attendance_record

    attendance_record(
        place=place,
        participant_ref=referral.participant_ref,
        participant_label="たろうさん",
        on=timezone.localdate(),
        status="attended",
        by=personas.place_staff,
    )
    meeting = make_meeting(chair=personas.chair, kind="support_meeting", participants=[personas.caseworker_a])
    item = put_on_agenda(meeting=meeting, case=case, purpose="information_sharing", by=personas.chair)
    rs.referral_move(
        move="cancel", referral=Referral.objects.get(pk=referral.pk), by=personas.caseworker_a, reason="終結のため"
    )
    case = _close(case, on=LONG_AGO)
    _confirm_rules(personas.administrator)
    disposal_approve(decision=_propose(personas), by=admin2)
    assert not Referral.objects.filter(pk=referral.pk).exists()
    assert not Attendance.objects.filter(participant_ref=referral.participant_ref).exists()
    assert not AgendaItem.objects.filter(pk=item.pk).exists()
    assert meeting.__class__.objects.filter(pk=meeting.pk).exists()
    assert DisposalTombstone.objects.get().removed["居場所の出欠"] == 1


def test_a_hold_set_after_the_proposal_stops_the_disposal(personas, admin2):
    case = _old_case(personas)
    _confirm_rules(personas.administrator)
    decision = _propose(personas)
    legal_hold_set(case_number=case.number, reason="開示請求の対応中", by=admin2)
    disposal_approve(decision=decision, by=admin2)
    assert Case.objects.filter(pk=case.pk).exists()
    item = DisposalItem.objects.get()
    assert (item.outcome, item.outcome_note) == ("skipped", "廃棄の停止中")
    assert DisposalTombstone.objects.count() == 0


def test_a_reopened_case_is_skipped_at_approval(personas, admin2):
    case = _old_case(personas)
    _confirm_rules(personas.administrator)
    decision = _propose(personas)
    case_transition(case=case, to_state="assessment", reason="再度の相談", by=personas.caseworker_a)
    disposal_approve(decision=decision, by=admin2)
    assert Case.objects.filter(pk=case.pk).exists()
    assert DisposalItem.objects.get().outcome == "skipped"


def test_a_record_waits_in_one_proposal_at_a_time_and_a_rejection_frees_it(personas, admin2):
    case = _old_case(personas)
    _confirm_rules(personas.administrator)
    decision = _propose(personas)
    with pytest.raises(ValidationError):
        _propose(personas)
    disposal_reject(decision=decision, by=admin2, note="対象を再確認する")
    assert Case.objects.filter(pk=case.pk).exists()
    again = _propose(personas)
    assert again.items.get().object_id == case.pk
    with pytest.raises(ValidationError, match="すでに処理"):
        disposal_approve(decision=decision, by=admin2)


@pytest.mark.django_db(transaction=True)
def test_two_approvals_at_once_dispose_once(personas):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    admin2, admin3 = _second_admin(personas), _second_admin(personas, "admin3")
    case = _old_case(personas)
    _confirm_rules(personas.administrator)
    decision = _propose(personas)
    barrier = threading.Barrier(2)
    outcomes = []

    def approve(user):
        from django.db import connection as conn

        try:
            barrier.wait()
            disposal_approve(decision=DisposalDecision.objects.get(pk=decision.pk), by=user)
            outcomes.append("ok")
        except ValidationError as error:
            outcomes.append(error.messages[0])
        finally:
            conn.close()

    threads = [threading.Thread(target=approve, args=(u,)) for u in (admin2, admin3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "この廃棄の決定はすでに処理されています。"]
    assert DisposalTombstone.objects.count() == 1
    assert AccessLog.objects.filter(action="dispose", outcome="allowed").count() == 1
    assert not Case.objects.filter(pk=case.pk).exists()


# --- screens ----------------------------------------------------------------------------------


def test_the_administrator_screens_answer_only_administrators(personas, login):
    _old_case(personas)
    retention_run(timezone.localdate())
    urls = [
        reverse("casework:retention"),
        reverse("casework:legal_holds"),
        reverse("casework:disposal_history"),
        reverse("casework:file_ledger"),
        reverse("casework:file_ledger_csv"),
        reverse("casework:retention_rule", args=[RetentionRule.objects.first().pk]),
    ]
    for url in urls:
        assert login(personas.administrator).get(url).status_code == 200, url
        for other in (
            personas.caseworker_a,
            personas.supervisor_a,
            personas.auditor,
            personas.place_staff,
            personas.chair,
        ):
            assert login(other).get(url).status_code == 404, (url, other)
        assert login(None).get(url).status_code == 302


def test_the_screens_walk_from_list_to_disposal(personas, login, admin2):
    case = _old_case(personas)
    first, second = login(personas.administrator), login(admin2)
    rule = (
        RetentionRule.objects.get(kind="closed_case") if RetentionRule.objects.exists() else retention_rules_ensure()[0]
    )
    response = first.post(
        reverse("casework:retention_rule", args=[rule.pk]),
        {"years": "５", "basis": "○○市文書管理規程 別表第2", "is_active": "on"},
    )
    assert response.status_code == 302
    first.post(reverse("casework:retention_run"))
    page = first.get(reverse("casework:retention"))
    assert case.number in page.content.decode() and NAME not in page.content.decode()
    assert page["Cache-Control"].startswith("no-store") or "no-store" in page["Cache-Control"]
    candidate = RetentionCandidate.objects.get(object_id=case.pk)
    response = first.post(reverse("casework:retention"), {"candidates": [candidate.pk], "reason": "保存期間の満了"})
    decision = DisposalDecision.objects.get()
    assert response.url == reverse("casework:disposal_decision", args=[decision.pk])
    own = first.post(response.url, {"action": "approve", "note": ""})
    assert own.status_code == 200 and "自分が起案した廃棄は承認できません" in own.content.decode()
    assert Case.objects.filter(pk=case.pk).exists()
    done = second.post(response.url, {"action": "approve", "note": "確認済み"})
    assert done.status_code == 302
    assert not Case.objects.filter(pk=case.pk).exists()
    history = first.get(reverse("casework:disposal_history")).content.decode()
    assert case.number in history and NAME not in history


def test_a_bad_hold_form_gets_a_message_and_changes_nothing(personas, login):
    client = login(personas.administrator)
    response = client.post(reverse("casework:legal_holds"), {"case_number": "Ｒ１－９９９", "reason": "審査請求"})
    assert response.status_code == 200 and "このケース番号のケースはありません" in response.content.decode()
    response = client.post(reverse("casework:legal_holds"), {"case_number": "", "person_id": "", "reason": "x"})
    assert "どちらか一方" in response.content.decode()


# --- 個人情報ファイル簿 ----------------------------------------------------------------------------


def test_the_file_ledger_comes_from_the_live_data_and_its_csv_is_formula_safe(personas, login):
    for i in range(3):
        make_case(lead_organization=personas.window_a, by=personas.caseworker_a, family_name=f"台帳{i}")
    PersonFactory()
    MigrationSource.objects.create(name="旧システム", updated_by=personas.administrator)
    # A cell that begins with what Excel would run: the municipality's name, as typed by an administrator.
    personas.municipal.name = '=HYPERLINK("http://x")'
    personas.municipal.save()
    client = login(personas.administrator)
    page = client.get(reverse("casework:file_ledger")).content.decode()
    assert f"{Person.objects.count():,}人" in page
    assert "氏（フリガナ）" in page and "主訴" in page and "本人（3件）" in page
    assert "1,000人未満" in page and "他のシステム・台帳からの移行（旧システム）" in page
    body = client.get(reverse("casework:file_ledger_csv")).content.decode("utf-8-sig")
    assert body.startswith("項目,内容")
    assert "'=HYPERLINK" in body and ",=HYPERLINK" not in body and '"=HYPERLINK' not in body


def test_the_daily_job_is_registered_and_lists_once_per_day(personas):
    from casework.scheduling import DAILY_JOBS, run_daily_job_now

    _old_case(personas)
    assert "retention" in DAILY_JOBS
    day = timezone.localdate()
    first = run_daily_job_now("retention", day)
    assert run_daily_job_now("retention", day) == first == "廃棄対象 1 件（停止中 0 件は除外）"
    assert RetentionRun.objects.filter(day=day).count() == 1 and RetentionCandidate.objects.count() == 1
