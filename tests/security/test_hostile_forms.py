"""Every corpus value into every typed field of every POST form: never a 500, refused or stored as typed.

Each form has a scenario: the persona allowed to use it, a valid submission, and the pages that show
what it stores. Each value goes into one field at a time, inside a savepoint that is rolled back, so
every submission starts from the same data. A URL of the project that is neither a scenario nor
listed as read-only fails the coverage test, and so does a form class nobody submits.
"""

from __future__ import annotations

import inspect
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django import forms
from django.apps import apps
from django.contrib.messages import constants as message_levels
from django.contrib.messages import get_messages
from django.db import connection, models, transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from casework.services.plans import plan_propose
from core.japanese import to_katakana_reading
from tests.security.corpus import CORPUS, MARKUP_NEEDLES, TALLY, Hostile, stored_form, urlencoded
from tests.security.support import RowWatch
from tests.urlwalk import all_urls

APPS = ("casework", "places", "referrals", "meetings")
# Tables every request may write whatever the form does: the log, sessions, lockout and presence.
VOLATILE_TABLES = ("casework_accesslog", "django_session", "axes_", "otp_", "meetings_meetingpresence")
FUZZED_FIELDS = (forms.CharField, forms.IntegerField, forms.DecimalField, forms.FloatField, forms.TimeField)
FUZZED_FIELDS += (forms.DateField, forms.DateTimeField)
JAPANESE = re.compile("[\u3040-\u30ff\u4e00-\u9fff]")
ALERT = re.compile(
    r'(?:role="alert"|class="(?:field-error|errors|errorlist)[^"]*")[^>]*>(.*?)</(?:div|p|span|li|ul)>', re.S
)


@dataclass
class Target:
    """One form to attack: where it posts, as whom, a valid submission and the form behind it."""

    url: str
    client: object
    data: dict
    form: forms.BaseForm
    prefix: str = ""
    # Pages that show what this form stores (checked for unescaped markup).
    shows: list[str] = field(default_factory=list)


@dataclass
class Scenario:
    url_name: str
    form_class: str
    build: Callable[..., Target]
    # Fields that do not take typed text worth attacking, with the reason.
    skip: dict[str, str] = field(default_factory=dict)
    # Fields whose value is a lookup key (a case number), a secret, or ignored by this action: never stored.
    lookup_only: tuple[str, ...] = ()
    # Fields stored after a transformation other than stripping (furigana, tag lists).
    transform: dict[str, Callable[[str], list[str]]] = field(default_factory=dict)
    # Forms whose valid-looking submission is refused on purpose (a wrong code or password: no secrets here).
    baseline_refused: bool = False
    # Statuses the view answers by design besides a page, a redirect or a conflict.
    also_status: tuple[int, ...] = ()


# ---------------------------------------------------------------------------
# Building the world each scenario needs
# ---------------------------------------------------------------------------


def _today():
    return timezone.localdate().isoformat()


def _case(w):
    from tests.factories import make_case

    return make_case(lead_organization=w.p.window_a, by=w.p.caseworker_a)


def _person(case):
    return case.subject_rows.first().person


def _kana(value: str) -> list[str]:
    return [to_katakana_reading(stored_form(value))]


def _tags(value: str) -> list[str]:
    from places.forms import _LIST_SPLIT

    return [part for part in _LIST_SPLIT.split(stored_form(value)) if part]


def _https(value: str) -> list[str]:
    """A URL typed without a scheme is stored with https:// (Django's assume_scheme)."""
    value = stored_form(value)
    return [value if "://" in value else f"https://{value}"]


PERSON_SKIP = {"link_person": "hidden choice of a duplicate, checked against the shown list"}


def intake(w) -> Target:
    from casework.forms import IntakeForm, MemberForm

    data = {
        "household_name": "山田さん世帯",
        "domains": ["elderly"],
        "main_category": "care",
        "intake_route": "family",
        "opened_on": "令和7年6月1日",
        "summary": "主訴",
        "p1-family_name": "山田",
        "p1-given_name": "ハル",
        "p1-family_name_kana": "ヤマダ",
        "p1-given_name_kana": "ハル",
        "p1-relationship": "self",
        "p1-is_subject": "on",
        # The blank second member as a browser sends it: its two checkboxes stay at their initial "on".
        "p2-lives_together": "on",
        "p2-is_subject": "on",
    }
    form = IntakeForm(organizations=[w.p.window_a])
    for name, f in MemberForm(prefix="p1").fields.items():
        form.fields[f"p1-{name}"] = f
    return Target(reverse("casework:case_intake"), w.login(w.p.caseworker_a), data, form, shows=["/cases/"])


def member_add(w) -> Target:
    from casework.forms import MemberForm

    case = _case(w)
    data = {"p1-family_name": "山田", "p1-given_name": "次郎", "p1-relationship": "child", "p1-is_subject": "on"}
    data |= {"p1-family_name_kana": "ヤマダ", "p1-given_name_kana": "ジロウ"}
    return Target(
        reverse("casework:member_add", args=[case.pk]),
        w.login(w.p.caseworker_a),
        data,
        MemberForm(prefix="p1"),
        prefix="p1-",
        shows=[case.get_absolute_url()],
    )


def consent_create(w) -> Target:
    from casework.forms import ConsentForm

    case = _case(w)
    data = {
        "person": _person(case).pk,
        "status": "given",
        "given_by": "self",
        "given_on": _today(),
        "method": "written",
        "scope_kind": "case_team",
        "purposes": ["share_with_agencies"],
    }
    return Target(
        reverse("casework:consent_create", args=[case.pk]),
        w.login(w.p.caseworker_a),
        data,
        ConsentForm(people=[_person(case)]),
        shows=[case.get_absolute_url()],
    )


def consent_withdraw(w) -> Target:
    from casework.forms import WithdrawForm
    from tests.factories import make_consent

    case = _case(w)
    consent = make_consent(
        person=_person(case),
        organizations=[w.p.window_b],
        purposes=["share_with_agencies"],
        by=w.p.caseworker_a,
        case=case,  # a consent belongs to the case that recorded it
    )
    return Target(
        reverse("casework:consent_withdraw", args=[case.pk, consent.pk]),
        w.login(w.p.caseworker_a),
        {"withdrawn_on": _today(), "note": "撤回"},
        WithdrawForm(),
        shows=[case.get_absolute_url()],
    )


def assessment_create(w) -> Target:
    from casework.forms import AssessmentForm

    case = _case(w)
    form = AssessmentForm()
    data = {"assessed_on": _today(), "narrative": "見立て"} | {
        name: "unknown" for name in form.fields if name.startswith("item_")
    }
    return Target(
        reverse("casework:assessment_create", args=[case.pk]),
        w.login(w.p.caseworker_a),
        data,
        form,
        shows=[case.get_absolute_url()],
    )


def plan_create(w) -> Target:
    from casework.forms import PlanForm

    case = _case(w)
    return Target(
        reverse("casework:plan_create", args=[case.pk]),
        w.login(w.p.caseworker_a),
        {"goals": "目標"},
        PlanForm(),
        shows=[case.get_absolute_url()],
    )


def _draft_plan(w):
    from casework.services.plans import plan_create

    case = _case(w)
    return case, plan_create(case=case, goals="目標", by=w.p.caseworker_a)


def plan_edit(w) -> Target:
    from casework.forms import PlanForm

    case, plan = _draft_plan(w)
    url = reverse("casework:plan_detail", args=[case.pk, plan.pk])
    return Target(url, w.login(w.p.caseworker_a), {"form": "plan", "goals": "目標2"}, PlanForm(), shows=[url])


def plan_role(w) -> Target:
    from casework.forms import PlanRoleForm

    case, plan = _draft_plan(w)
    url = reverse("casework:plan_detail", args=[case.pk, plan.pk])
    data = {"form": "role", "organization": w.p.window_a.pk, "role": "訪問", "actions": "週1回"}
    return Target(url, w.login(w.p.caseworker_a), data, PlanRoleForm(), shows=[url])


def plan_approve(w) -> Target:

    from casework.forms import PlanApproveForm

    case, plan = _draft_plan(w)
    plan_propose(plan=plan, by=w.p.caseworker_a)
    url = reverse("casework:plan_detail", args=[case.pk, plan.pk])
    data = {"form": "approve", "decided_by_label": "重層的支援会議"}
    return Target(url, w.login(w.p.caseworker_a), data, PlanApproveForm(), shows=[url, case.get_absolute_url()])


def approval_decide(w) -> Target:
    from casework.forms import ApprovalDecisionForm
    from casework.services.approvals import approval_request_closing

    case = _case(w)
    approval = approval_request_closing(
        case=case, to_state="suspended", by=w.p.caseworker_a, reason="連絡が取れない", choices={}
    )
    url = reverse("casework:approval_detail", args=[case.pk, approval.pk])
    data = {"decision": "return", "comment": "理由を具体的に"}
    return Target(url, w.login(w.p.supervisor_a), data, ApprovalDecisionForm(), shows=[case.get_absolute_url()])


def contact_create(w) -> Target:
    from casework.forms import ContactForm

    case = _case(w)
    data = {"occurred_on": _today(), "occurred_time": "10:00", "kind": "phone", "summary": "電話"}
    return Target(
        reverse("casework:contact_create", args=[case.pk]),
        w.login(w.p.caseworker_a),
        data,
        ContactForm(people=[_person(case)]),
        shows=[case.get_absolute_url()],
    )


def team(w) -> Target:
    from casework.forms import TeamAddForm
    from tests.factories import give_sharing_consent

    case = _case(w)
    give_sharing_consent(case, organization=w.p.window_b, by=w.p.caseworker_a)  # adding is a share: it needs a basis
    url = reverse("casework:team", args=[case.pk])
    data = {"form": "add", "organization": w.p.window_b.pk, "note": "就労"}
    return Target(url, w.login(w.p.caseworker_a), data, TeamAddForm(), shows=[url])


def transition(w) -> Target:
    from casework.forms import TransitionForm

    case = _case(w)
    data = {"to_state": "suspended", "reason": "連絡が取れない", "expected_version": case.version}
    return Target(
        reverse("casework:transition", args=[case.pk]),
        w.login(w.p.caseworker_a),
        data,
        TransitionForm(),
        shows=[case.get_absolute_url()],
    )


def break_glass(w) -> Target:
    from casework.forms import BreakGlassForm

    case = _case(w)
    data = {"number": case.number, "reason": "夜間に本人から緊急の電話があったため"}
    return Target(reverse("casework:break_glass"), w.login(w.p.caseworker_b), data, BreakGlassForm())


def family_relative(w) -> Target:
    from casework.forms import RelativeForm

    case = _case(w)
    url = reverse("casework:family_edit", args=[case.pk])
    data = {"form": "relative", "relative-relationship": "spouse", "relative-name": "山田　正"}
    data |= {"relative-gender": "male", "relative-partnership": "bereaved", "relative-lives_in": "大阪市"}
    form = RelativeForm(prefix="relative")
    return Target(url, w.login(w.p.caseworker_a), data, form, prefix="relative-", shows=[url])


def family_support(w) -> Target:
    from casework.forms import SupportTieForm

    case = _case(w)
    url = reverse("casework:family_edit", args=[case.pk])
    data = {"form": "support", "support-name": "民生委員の佐藤さん", "support-kind": "commissioner"}
    data |= {"support-strength": "strong", "support-quality": "supportive", "support-note": "週に一度"}
    form = SupportTieForm(prefix="support")
    return Target(url, w.login(w.p.caseworker_a), data, form, prefix="support-", shows=[url])


def person_edit(w) -> Target:
    from casework.forms import PersonEditForm

    case = _case(w)
    person = _person(case)
    url = reverse("casework:person_edit", args=[case.pk, person.pk])
    data = {"family_name": person.family_name, "given_name": "花子", "family_name_kana": "ヤマダ"}
    data |= {"given_name_kana": "ハナコ", "gender": person.gender or "unanswered", "city": "みどり市"}
    form = PersonEditForm(person=person, show_address=True)
    return Target(url, w.login(w.p.caseworker_a), data, form, shows=[url, case.get_absolute_url()])


def household_edit(w) -> Target:
    from casework.forms import HouseholdForm

    case = _case(w)
    url = reverse("casework:household_edit", args=[case.pk])
    data = {"name": "山田さん世帯", "tags": ["8050"], "note": "備考"}
    return Target(url, w.login(w.p.caseworker_a), data, HouseholdForm(), shows=[url, case.get_absolute_url()])


def household_member_edit(w) -> Target:
    from casework.forms import MemberEditForm

    case = _case(w)
    member = case.household.members.first()
    url = reverse("casework:household_member_edit", args=[case.pk, member.pk])
    data = {"form": "member", "relationship": "self", "relationship_note": "本人", "lives_together": "on"}
    return Target(url, w.login(w.p.caseworker_a), data, MemberEditForm(), shows=[url, case.get_absolute_url()])


def household_member_end(w) -> Target:
    from casework.forms import MemberEndForm

    case = _case(w)
    member = case.household.members.first()
    url = reverse("casework:household_member_edit", args=[case.pk, member.pk])
    return Target(url, w.login(w.p.caseworker_a), {"form": "end", "until": _today()}, MemberEndForm())


def case_edit(w) -> Target:
    from casework import selectors
    from casework.forms import CaseEditForm

    case = _case(w)
    url = reverse("casework:case_edit", args=[case.pk])
    data = {"domains": ["elderly"], "main_category": "care", "intake_route": "family", "summary": "主訴"}
    data["expected_version"] = case.version
    form = CaseEditForm(case=case, workers=selectors.lead_worker_candidates(case.lead_organization_id))
    return Target(url, w.login(w.p.caseworker_a), data, form, shows=[case.get_absolute_url()])


def case_change_lead(w) -> Target:
    from casework.forms import LeadChangeForm
    from casework.models import Organization

    case = _case(w)
    url = reverse("casework:case_change_lead", args=[case.pk])
    data = {"organization": w.p.window_b.pk, "reason": "障害分野の支援が中心になったため"}
    data["expected_version"] = case.version
    form = LeadChangeForm(case=case, organizations=Organization.objects.all(), memberships=[])
    return Target(url, w.login(w.p.caseworker_a), data, form, shows=[case.get_absolute_url()])


def next_review(w) -> Target:

    from casework.forms import NextReviewForm
    from casework.services.plans import plan_approve as approve_plan

    case, plan = _draft_plan(w)
    approve_plan(plan=plan, by=w.p.caseworker_a)
    url = reverse("casework:plan_detail", args=[case.pk, plan.pk])
    data = {"form": "next_review", "next_review_on": "令和20年4月1日"}
    return Target(url, w.login(w.p.caseworker_a), data, NextReviewForm(), shows=[url, case.get_absolute_url()])


def _place_data(w) -> dict:
    return {
        "operator": w.p.place_operator.pk,
        "name": "ひだまり食堂",
        "kind": "community_cafe",
        "area": "中央",
        "schedule_text": "毎週水曜 10:00-12:00",
        "activities_text": "料理",
        "target_groups": ["anyone"],
        "accepts_referrals": "on",
        "is_active": "on",
    }


def place_create(w) -> Target:
    from places.forms import PlaceForm

    return Target(
        reverse("places:create"),
        w.login(w.p.place_staff),
        _place_data(w),
        PlaceForm(operators=[w.p.place_operator]),
        shows=[reverse("places:list")],
    )


def place_edit(w) -> Target:
    from places.forms import PlaceForm
    from tests.factories import PlaceFactory

    place = PlaceFactory(operator=w.p.place_operator, name="ひだまり食堂")
    return Target(
        reverse("places:edit", args=[place.pk]),
        w.login(w.p.place_staff),
        _place_data(w),
        PlaceForm(operators=[w.p.place_operator], instance=place),
        shows=[reverse("places:detail", args=[place.pk]), reverse("places:list")],
    )


def _accepted_participation(w):
    from referrals import services as rs
    from tests.factories import PlaceFactory, make_referral

    case = _case(w)
    place = PlaceFactory(operator=w.p.place_operator, name="みんなの子ども食堂")
    referral = make_referral(kind="participation", case=case, by=w.p.caseworker_a, sender=w.p.window_a, place=place)
    referral = rs.referral_move(move="accept", referral=referral, by=w.p.place_staff)
    return referral, place


def place_attendance(w) -> Target:
    from places import selectors as place_selectors
    from places.forms import AttendanceForm
    from referrals import services as rs

    referral, place = _accepted_participation(w)
    rs.referral_attendance_record(referral=referral, on=timezone.localdate(), status="attended", by=w.p.place_staff)
    participants = place_selectors.participants_at(place)
    url = reverse("places:attendance", args=[place.pk])
    # Today's entry exists: correcting it is asked for explicitly.
    data = {
        "participant_ref": participants[0][0],
        "on": _today(),
        "status": "attended",
        "note": "元気",
        "replace": "on",
    }
    return Target(url, w.login(w.p.place_staff), data, AttendanceForm(participants=participants), shows=[url])


def referral_new(kind: str):
    def build(w) -> Target:
        from referrals.forms import ReferralForm
        from tests.factories import PlaceFactory, make_consent

        if kind == "tsunagi":
            data = {
                "receiver_organization": w.p.window_a.pk,
                "request_text": "元気がない",
                "card_preferred_name": "ゆう",
            }
            form = ReferralForm(kind=kind, sender=w.p.place_operator)
            return Target(reverse("referrals:new", args=[kind]), w.login(w.p.place_staff), data, form)
        case = _case(w)
        person = _person(case)
        data = {"person": person.pk, "request_text": "依頼", "card_preferred_name": "たろう"}
        if kind == "participation":
            place = PlaceFactory(operator=w.p.place_operator, name="みんなの子ども食堂")
            data["place"] = place.pk
        else:
            data["receiver_organization"] = w.p.window_b.pk
            make_consent(
                person=person, organizations=[w.p.window_b], purposes=["share_with_agencies"], by=w.p.caseworker_a
            )
        form = ReferralForm(kind=kind, sender=w.p.window_a, persons=[person])
        url = reverse("referrals:new", args=[kind]) + f"?case={case.pk}"
        return Target(url, w.login(w.p.caseworker_a), data, form, shows=[reverse("referrals:outbox")])

    return build


def _draft(w):
    from tests.factories import make_referral

    case = _case(w)
    return make_referral(case=case, by=w.p.caseworker_a, sender=w.p.window_a, receiver=w.p.window_b, send=False)


def referral_edit(w) -> Target:
    from referrals.forms import ReferralForm

    draft = _draft(w)
    form = ReferralForm(kind=draft.kind, sender=w.p.window_a, editing=True)
    data = {"request_text": "依頼", "card_preferred_name": "たろう", "card_name": "山田太郎"}
    return Target(
        reverse("referrals:edit", args=[draft.pk]),
        w.login(w.p.caseworker_a),
        data,
        form,
        shows=[draft.get_absolute_url()],
    )


def referral_send(w) -> Target:
    from referrals.forms import SendForm
    from tests.factories import make_consent

    draft = _draft(w)
    # Sent on the person's consent: a 支援会議 basis is a choice among recorded decisions, never typed text.
    make_consent(
        person=draft.person,
        organizations=[w.p.window_b],
        purposes=["share_with_agencies"],
        by=w.p.caseworker_a,
        case=draft.case,
    )
    data = {"version": draft.version}
    return Target(
        reverse("referrals:send", args=[draft.pk]),
        w.login(w.p.caseworker_a),
        data,
        SendForm(),
        shows=[draft.get_absolute_url()],
    )


def referral_move(w) -> Target:
    from referrals.forms import MoveForm
    from tests.factories import make_referral

    case = _case(w)
    referral = make_referral(case=case, by=w.p.caseworker_a, sender=w.p.window_a, receiver=w.p.window_b)
    data = {"version": referral.version, "reason": "情報が足りない"}
    return Target(
        reverse("referrals:move", args=[referral.pk, "return"]),
        w.login(w.p.caseworker_b),
        data,
        MoveForm(),
        shows=[referral.get_absolute_url()],
    )


def referral_stage(w) -> Target:
    from referrals.forms import StageForm

    referral, _place = _accepted_participation(w)
    data = {"stage": "visit", "on": _today(), "accompanied_by": "担当者", "note": "見学"}
    return Target(
        reverse("referrals:stage", args=[referral.pk]),
        w.login(w.p.caseworker_a),
        data,
        StageForm(),
        shows=[referral.get_absolute_url()],
    )


def place_attendance_session(w) -> Target:
    from places import selectors as place_selectors
    from places.forms import AttendanceSessionForm

    _referral, place = _accepted_participation(w)
    participants = place_selectors.participants_at(place)
    url = reverse("places:attendance_session", args=[place.pk])
    data = {"on": _today(), "status_0": "attended", "note_0": "元気", "replace": "on"}
    form = AttendanceSessionForm(participants=participants)
    return Target(url, w.login(w.p.place_staff), data, form, shows=[reverse("places:attendance", args=[place.pk])])


def referral_attendance(w) -> Target:
    from referrals import integration
    from referrals.forms import AttendanceForm

    referral, _place = _accepted_participation(w)
    data = {"on": _today(), "status": "attended", "hours": "2", "note": "元気"}
    form = AttendanceForm(status_choices=integration.attendance_status_choices())
    return Target(
        reverse("referrals:attendance", args=[referral.pk]),
        w.login(w.p.place_staff),
        data,
        form,
        shows=[referral.get_absolute_url()],
    )


def referral_note(w) -> Target:
    from referrals.forms import NoteForm

    referral, _place = _accepted_participation(w)
    return Target(
        reverse("referrals:note", args=[referral.pk]),
        w.login(w.p.place_staff),
        {"text": "ひとこと"},
        NoteForm(),
        shows=[referral.get_absolute_url()],
    )


def tsunagi_open_case(w) -> Target:
    from referrals import services as rs
    from referrals.forms import OpenCaseForm
    from tests.factories import make_referral

    referral = make_referral(kind="tsunagi", by=w.p.place_staff, sender=w.p.place_operator, receiver=w.p.window_a)
    referral = rs.referral_move(move="accept", referral=referral, by=w.p.caseworker_a)
    data = {"domains": ["child"], "main_category": "childcare", "family_name": "山田", "summary": "主訴"}
    return Target(
        reverse("referrals:open_case", args=[referral.pk]),
        w.login(w.p.caseworker_a),
        data,
        OpenCaseForm(),
        shows=[reverse("casework:case_list")],
    )


def _meeting(w):
    from tests.factories import give_layered_consent, make_meeting, make_meeting_case, put_on_agenda

    case = make_meeting_case(lead_organization=w.p.window_a, lead_worker=w.p.caseworker_a, state="planning")
    give_layered_consent(case, by=w.p.caseworker_a)
    from casework.services.plans import plan_create as create_plan

    create_plan(case=case, goals="目標", by=w.p.caseworker_a)
    meeting = make_meeting(chair=w.p.chair, secretary=w.p.coordinator, participants=[w.p.caseworker_a])
    item = put_on_agenda(meeting=meeting, case=case, purpose="plan_agreement", by=w.p.chair)
    meeting.refresh_from_db()
    return meeting, item, case


def item_edit(w) -> Target:
    from meetings.forms import AgendaItemEditForm

    meeting, item, _case_ = _meeting(w)
    url = reverse("meetings:item_edit", args=[meeting.pk, item.pk])
    data = {"purpose": "plan_agreement", "summary": "概要", "based_on_version": item.version}
    shows = [meeting.get_absolute_url(), reverse("meetings:minutes", args=[meeting.pk])]
    return Target(url, w.login(w.p.chair), data, AgendaItemEditForm(), shows=shows)


def _action(w):
    from meetings import services as ms

    meeting, item, _case_ = _meeting(w)
    decision = ms.meeting_decide(
        item=item, kind="action", text="訪問", actions=[{"organization": w.p.window_a, "text": "訪問"}], by=w.p.chair
    )
    return meeting, decision.actions.get()


def action_done(w) -> Target:
    from meetings.forms import ActionUpdateForm

    meeting, action = _action(w)
    url = reverse("meetings:action_done", args=[action.pk])
    return Target(
        url, w.login(w.p.caseworker_a), {"note": "訪問した"}, ActionUpdateForm(), shows=[meeting.get_absolute_url()]
    )


def action_reopen(w) -> Target:
    from meetings import services as ms
    from meetings.forms import ActionUpdateForm

    meeting, action = _action(w)
    ms.action_item_mark_done(action=action, by=w.p.caseworker_a)
    url = reverse("meetings:action_reopen", args=[action.pk])
    return Target(
        url, w.login(w.p.caseworker_a), {"note": "再訪問"}, ActionUpdateForm(), shows=[meeting.get_absolute_url()]
    )


def meeting_reschedule(w) -> Target:
    from meetings.forms import MeetingScheduleForm

    meeting, _item, _case_ = _meeting(w)
    starts = (timezone.localtime() + timedelta(days=4)).strftime("%Y-%m-%dT%H:%M")
    data = {"action": "reschedule", "starts_at": starts, "place": "別館2階"}
    url = reverse("meetings:schedule", args=[meeting.pk])
    return Target(url, w.login(w.p.chair), data, MeetingScheduleForm(), shows=[meeting.get_absolute_url()])


def meeting_cancel(w) -> Target:
    from meetings.forms import MeetingCancelForm

    meeting, _item, _case_ = _meeting(w)
    url = reverse("meetings:schedule", args=[meeting.pk])
    data = {"action": "cancel", "reason": "台風のため"}
    return Target(url, w.login(w.p.chair), data, MeetingCancelForm(), shows=[meeting.get_absolute_url()])


def meeting_create(w) -> Target:
    from meetings.forms import MeetingForm

    starts = (timezone.localtime() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    data = {"kind": "layered_meeting", "title": "ケース会議", "starts_at": starts, "convened_by": w.p.municipal.pk}
    data |= {"place": "3階会議室", "online_url": "https://meet.example.jp/a"}
    return Target(
        reverse("meetings:create"),
        w.login(w.p.chair),
        data,
        MeetingForm(organizations=[w.p.municipal]),
        shows=[reverse("meetings:list")],
    )


def agenda_add(w) -> Target:
    from meetings.forms import AgendaAddForm
    from tests.factories import give_layered_consent, make_meeting_case, propose_case

    meeting, _item, _case_ = _meeting(w)
    other = make_meeting_case(
        lead_organization=w.p.window_a, lead_worker=w.p.caseworker_a, state="planning", family_name="佐藤"
    )
    give_layered_consent(other, by=w.p.caseworker_a)
    propose_case(other, kind=meeting.kind, purpose="progress_review")
    url = reverse("meetings:agenda", args=[meeting.pk])
    data = {"action": "add", "case": other.pk, "purpose": "progress_review", "summary": "概要"}
    return Target(url, w.login(w.p.chair), data, AgendaAddForm(), shows=[url, meeting.get_absolute_url()])


def case_propose(w) -> Target:
    from meetings.forms import ProposalForm

    case = _case(w)
    url = reverse("meetings:propose", args=[case.pk])
    data = {"kind": "support_meeting", "purpose": "information_sharing", "reason": "役割分担を決めたい"}
    return Target(url, w.login(w.p.caseworker_a), data, ProposalForm(), shows=[url, case.get_absolute_url()])


def item_notes(w) -> Target:
    from meetings.forms import NoteForm

    meeting, item, _case_ = _meeting(w)
    url = reverse("meetings:notes", args=[meeting.pk, item.pk])
    data = {"notes": "記録", "based_on_version": item.version}
    shows = [url, meeting.get_absolute_url(), reverse("meetings:minutes", args=[meeting.pk])]
    return Target(url, w.login(w.p.coordinator), data, NoteForm(), shows=shows)


def item_decide(w) -> Target:
    from meetings.forms import DecisionForm

    meeting, item, _case_ = _meeting(w)
    url = reverse("meetings:decide", args=[meeting.pk, item.pk])
    data = {
        "kind": "action",
        "text": "訪問する",
        "action_organization": w.p.window_a.pk,
        "action_assignee_name": "佐藤",
    }
    shows = [meeting.get_absolute_url(), reverse("meetings:minutes", args=[meeting.pk])]
    return Target(url, w.login(w.p.chair), data, DecisionForm(), shows=shows)


def second_factor_setup(w) -> Target:
    from casework.accounts.views import TokenForm

    return Target(reverse("second_factor_setup"), w.login(w.p.caseworker_a), {"token": "123456"}, TokenForm())


def second_factor_verify(w) -> Target:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from casework.accounts.views import TokenForm

    TOTPDevice.objects.create(user=w.p.auditor, name="phone", confirmed=True)
    client = w.login(w.p.auditor, second_factor=False)
    return Target(reverse("second_factor_verify"), client, {"token": "123456"}, TokenForm())


def password_change(w) -> Target:
    from django.contrib.auth.forms import PasswordChangeForm

    from tests.factories import PASSWORD

    data = {"old_password": PASSWORD, "new_password1": "another-horse-battery-77", "new_password2": "x"}
    return Target(reverse("password_change"), w.login(w.p.caseworker_a), data, PasswordChangeForm(w.p.caseworker_a))


def login_form(w) -> Target:
    from django.test import Client

    from casework.forms import LoginForm

    return Target(reverse("login"), Client(), {"username": "cw_a", "password": "wrong"}, LoginForm())


def api_token_form(w) -> Target:
    from casework.forms import ApiTokenForm

    data = {"organization": w.p.window_a.pk, "label": "統計基盤", "scopes": ["hsds:read"], "expires_on": ""}
    return Target(reverse("casework:api_tokens"), w.login(w.p.administrator), data, ApiTokenForm())


def _disclosure_request(w):
    from casework.services.disclosure_requests import disclosure_request_open

    return disclosure_request_open(
        person=_person(_case(w)), received_on=timezone.localdate(), requester="self", by=w.p.auditor
    )


def disclosure_extend(w) -> Target:
    from casework.forms import DisclosureExtendForm

    req = _disclosure_request(w)
    data = {"action": "extend", "extended_due_on": (req.due_on + timedelta(days=10)).isoformat(), "reason": "量が多い"}
    return Target(req.get_absolute_url(), w.login(w.p.auditor), data, DisclosureExtendForm())


def disclosure_decide(w) -> Target:
    from casework.forms import DisclosureDecideForm

    req = _disclosure_request(w)
    data = {"action": "decide", "decision": "refused", "decided_on": req.received_on.isoformat(), "reason": "不存在"}
    return Target(req.get_absolute_url(), w.login(w.p.auditor), data, DisclosureDecideForm())


def handover(w) -> Target:
    from casework.choices import Role
    from casework.services.handover import handover_items, handover_receivers
    from casework.views.handover import HandoverForm
    from tests.factories import MembershipFactory, UserFactory, make_case

    org, leaving = w.p.window_a, w.p.caseworker_a
    MembershipFactory(user=UserFactory(username="cw_a_next"), organization=org, role=Role.CASEWORKER)
    make_case(lead_organization=org, by=leaving)
    groups = handover_items(org, leaving)
    receivers = list(handover_receivers(org, leaving))
    shown = ",".join(item.key for _source, items in groups for item in items)
    data = {
        "organization": org.pk,
        "worker": leaving.pk,
        "note": "4月1日付の人事異動",
        "all_to": receivers[0].pk,
        "shown": shown,
    }
    form = HandoverForm(receivers=receivers, groups=groups)
    return Target(reverse("casework:handover"), w.login(w.p.supervisor_a), data, form)


def _org_account_username(value: str) -> list[str]:
    from casework.forms import _FULL_WIDTH_ASCII

    return [value.translate(_FULL_WIDTH_ASCII).strip()]


def org_admin_account_new(w) -> Target:
    from casework.forms import OrgAccountForm

    secret = "kari-pass-2026-haru"
    data = {
        "username": "tanaka_hanako",
        "last_name": "田中",
        "first_name": "花子",
        "email": "",
        "password1": secret,
        "password2": secret,
        "role": "caseworker",
        "title": "相談支援員",
        "starts_on": "",
        "reason": "4月1日付 着任",
    }
    url = reverse("casework:org_admin_account_new")
    return Target(url, w.login(w.p.org_admin), data, OrgAccountForm(), shows=[reverse("casework:org_admin")])


def org_admin_grant_new(w) -> Target:
    from casework.forms import OrgGrantForm

    data = {"user": w.p.caseworker_a.pk, "role": "supervisor", "title": "主任", "starts_on": "", "reason": "昇任"}
    url = reverse("casework:org_admin_grant_new")
    return Target(url, w.login(w.p.org_admin), data, OrgGrantForm(), shows=[reverse("casework:org_admin")])


def _membership_a(w):
    from casework.models import Membership

    return Membership.objects.get(user=w.p.caseworker_a, organization=w.p.window_a)


def org_admin_membership_end(w) -> Target:
    from casework.forms import OrgMembershipEndForm

    membership = _membership_a(w)
    url = reverse("casework:org_admin_membership", args=[membership.pk])
    ends_on = (timezone.localdate() + timedelta(days=30)).isoformat()
    data = {"action": "end", "ends_on": ends_on, "reason": "人事異動（福祉課へ）"}
    return Target(url, w.login(w.p.org_admin), data, OrgMembershipEndForm(), shows=[url])


def org_admin_membership_cancel(w) -> Target:
    from casework.forms import OrgMembershipEndCancelForm
    from casework.services.memberships import membership_schedule_end

    membership = _membership_a(w)
    on = timezone.localdate() + timedelta(days=30)
    membership_schedule_end(membership=membership, on=on, reason="異動", by=w.p.administrator)
    url = reverse("casework:org_admin_membership", args=[membership.pk])
    data = {"action": "cancel", "reason": "異動の取消し"}
    return Target(url, w.login(w.p.org_admin), data, OrgMembershipEndCancelForm(), shows=[url])


def org_admin_grant_decide(w) -> Target:
    from casework.forms import OrgGrantDecideForm
    from casework.services.memberships import membership_grant_request
    from tests.factories import UserFactory

    grant = membership_grant_request(
        user=UserFactory(username="newcomer_x"),
        organization=w.p.window_a,
        role="caseworker",
        reason="着任",
        by=w.p.administrator,
    )
    url = reverse("casework:org_admin_grant_decide", args=[grant.pk])
    data = {"decision": "reject", "note": "別の部署に配属"}
    return Target(url, w.login(w.p.org_admin), data, OrgGrantDecideForm(), shows=[reverse("casework:org_admin")])


def _match_pair(w):
    from tests.factories import PersonFactory, make_case

    a = PersonFactory(family_name="森", given_name="一郎", family_name_kana="モリ", given_name_kana="イチロウ")
    b = PersonFactory(family_name="森", given_name="一郎", family_name_kana="もり", given_name_kana="いちろう")
    case_a = make_case(lead_organization=w.p.window_a, by=w.p.caseworker_a, persons=[a])
    make_case(lead_organization=w.p.window_a, by=w.p.caseworker_a, persons=[b])
    return case_a, a, b


def person_match_new(w) -> Target:
    from casework.forms import PersonMatchRequestForm

    case_a, a, b = _match_pair(w)
    page = reverse("casework:person_matches", args=[case_a.pk, a.pk])
    return Target(
        reverse("casework:person_match_new", args=[case_a.pk, a.pk]),
        w.login(w.p.caseworker_a),
        {"other": b.pk, "kind": "link", "keep": "this", "reason": "生年月日と電話が一致"},
        PersonMatchRequestForm(),
        shows=[page],
    )


def _person_match(w, state):
    from casework.models import PersonMatch

    case_a, a, b = _match_pair(w)
    match = PersonMatch.objects.create(
        kind="link",
        state=state,
        survivor=a,
        merged=b,
        reason="同じ方",
        requested_by=w.p.caseworker_a,
        requested_organization=w.p.window_a,
    )
    match.required_organizations.set([w.p.window_a, w.p.window_b])
    return match


def person_match_withdraw(w) -> Target:
    from casework.forms import PersonMatchReasonForm

    match = _person_match(w, "requested")
    page = reverse("casework:person_match", args=[match.pk])
    url = reverse("casework:person_match_withdraw", args=[match.pk])
    return Target(url, w.login(w.p.caseworker_a), {"reason": "別人と判明"}, PersonMatchReasonForm(), shows=[page])


def person_match_undo(w) -> Target:
    from casework.forms import PersonMatchReasonForm

    match = _person_match(w, "done")
    page = reverse("casework:person_match", args=[match.pk])
    url = reverse("casework:person_match_undo", args=[match.pk])
    return Target(url, w.login(w.p.caseworker_a), {"reason": "別人と判明"}, PersonMatchReasonForm(), shows=[page])


def _old_closed_case(w):
    from django.utils import timezone as tz

    from casework.models import Case
    from casework.services.cases import case_transition

    case = _case(w)
    for to in ["assessment", "planning", "in_support", "closed"]:
        case = case_transition(case=case, to_state=to, by=w.p.caseworker_a, reason="目標を達成したため")
    Case.objects.filter(pk=case.pk).update(closed_on=tz.localdate().replace(year=tz.localdate().year - 8))
    return case


def _retention_proposal(w):
    from casework.services.retention import (
        retention_rule_update,
        retention_rules_ensure,
        retention_run,
    )

    _old_closed_case(w)
    for rule in retention_rules_ensure():
        retention_rule_update(rule=rule, years=5, basis="文書管理規程", is_active=True, by=w.p.administrator)
    run = retention_run(timezone.localdate())
    return run, list(run.candidates.select_related("rule"))


def retention_rule(w) -> Target:
    from casework.forms import RetentionRuleForm
    from casework.services.retention import retention_rules_ensure

    rule = retention_rules_ensure()[0]
    data = {"years": "5", "basis": "○○市文書管理規程 別表第2", "is_active": "on"}
    url = reverse("casework:retention_rule", args=[rule.pk])
    return Target(url, w.login(w.p.administrator), data, RetentionRuleForm(), shows=[reverse("casework:retention")])


def retention_propose(w) -> Target:
    from casework.forms import DisposalProposeForm

    _run, candidates = _retention_proposal(w)
    data = {"candidates": [c.pk for c in candidates], "reason": "保存期間の満了"}
    return Target(reverse("casework:retention"), w.login(w.p.administrator), data, DisposalProposeForm())


def disposal_decide(w) -> Target:
    from casework.forms import DisposalDecideForm
    from casework.services.retention import disposal_propose

    _run, candidates = _retention_proposal(w)
    decision = disposal_propose(candidates=candidates, reason="保存期間の満了", by=w.p.administrator)
    url = reverse("casework:disposal_decision", args=[decision.pk])
    return Target(url, w.login(w.p.administrator), {"action": "reject", "note": "再確認"}, DisposalDecideForm())


def legal_hold(w) -> Target:
    from casework.forms import LegalHoldForm

    data = {"case_number": _case(w).number, "person_id": "", "reason": "審査請求の対応中"}
    url = reverse("casework:legal_holds")
    return Target(url, w.login(w.p.administrator), data, LegalHoldForm(), shows=[url])


def legal_hold_release(w) -> Target:
    from casework.forms import LegalHoldReleaseForm
    from casework.services.retention import legal_hold_set

    hold = legal_hold_set(case_number=_case(w).number, reason="審査請求の対応中", by=w.p.administrator)
    url = reverse("casework:legal_hold_release", args=[hold.pk])
    data = {"release_reason": "裁決が出たため"}
    return Target(
        url, w.login(w.p.administrator), data, LegalHoldReleaseForm(), shows=[reverse("casework:legal_holds")]
    )


SECRET = {"token": "a one-time code: never stored"}

SCENARIOS = [
    Scenario(
        "casework:case_intake",
        "IntakeForm",
        intake,
        skip=PERSON_SKIP | {"p1-link_person": "duplicate choice"},
        transform={"p1-family_name_kana": _kana, "p1-given_name_kana": _kana},
    ),
    Scenario(
        "casework:member_add",
        "MemberForm",
        member_add,
        skip=PERSON_SKIP,
        transform={"family_name_kana": _kana, "given_name_kana": _kana},
    ),
    Scenario("casework:consent_create", "ConsentForm", consent_create),
    Scenario("casework:consent_withdraw", "WithdrawForm", consent_withdraw),
    Scenario("casework:assessment_create", "AssessmentForm", assessment_create),
    Scenario("casework:plan_create", "PlanForm", plan_create),
    Scenario("casework:plan_detail", "PlanForm", plan_edit),
    Scenario("casework:plan_detail#role", "PlanRoleForm", plan_role),
    Scenario("casework:plan_detail#approve", "PlanApproveForm", plan_approve),
    Scenario("casework:contact_create", "ContactForm", contact_create),
    Scenario(
        "casework:person_edit",
        "PersonEditForm",
        person_edit,
        transform={"family_name_kana": _kana, "given_name_kana": _kana},
    ),
    Scenario("casework:household_edit", "HouseholdForm", household_edit),
    Scenario("casework:family_edit", "RelativeForm", family_relative),
    Scenario("casework:family_edit#support", "SupportTieForm", family_support),
    Scenario("casework:household_member_edit", "MemberEditForm", household_member_edit),
    Scenario("casework:household_member_edit#end", "MemberEndForm", household_member_end),
    Scenario("casework:case_edit", "CaseEditForm", case_edit),
    Scenario("casework:case_change_lead", "LeadChangeForm", case_change_lead),
    Scenario("casework:plan_detail#next_review", "NextReviewForm", next_review),
    Scenario("meetings:item_edit", "AgendaItemEditForm", item_edit),
    Scenario("meetings:action_done", "ActionUpdateForm", action_done),
    Scenario("meetings:action_reopen", "ActionUpdateForm", action_reopen),
    Scenario("casework:team", "TeamAddForm", team),
    Scenario("casework:transition", "TransitionForm", transition),
    Scenario("casework:approval_detail", "ApprovalDecisionForm", approval_decide, skip={"decision": "a fixed choice"}),
    Scenario("casework:break_glass", "BreakGlassForm", break_glass, lookup_only=("number",), also_status=(404,)),
    Scenario(
        "casework:handover",
        "HandoverForm",
        handover,
        skip={"all_to": "a choice among colleagues"},
        lookup_only=("shown",),
    ),
    Scenario("casework:disclosure_request#extend", "DisclosureExtendForm", disclosure_extend),
    Scenario(
        "casework:person_match_new",
        "PersonMatchRequestForm",
        person_match_new,
        skip={
            "other": "a record id (hostile ids: tests/casework/test_person_matches.py)",
            "kind": "fixed choices",
            "keep": "fixed choices",
        },
    ),
    Scenario("casework:person_match_withdraw", "PersonMatchReasonForm", person_match_withdraw),
    Scenario("casework:person_match_undo", "PersonMatchReasonForm", person_match_undo),
    Scenario(
        "casework:disclosure_request#decide",
        "DisclosureDecideForm",
        disclosure_decide,
        skip={"decision": "fixed choices"},
    ),
    Scenario(
        "casework:api_tokens",
        "ApiTokenForm",
        api_token_form,
        skip={"organization": "a choice among organizations", "scopes": "fixed choices"},
    ),
    Scenario(
        "casework:org_admin_account_new",
        "OrgAccountForm",
        org_admin_account_new,
        skip={"role": "fixed choices"},
        lookup_only=("password1", "password2"),
        transform={"username": _org_account_username},
    ),
    Scenario(
        "casework:org_admin_grant_new",
        "OrgGrantForm",
        org_admin_grant_new,
        skip={"user": "a choice among the organization's accounts", "role": "fixed choices"},
    ),
    Scenario("casework:org_admin_membership", "OrgMembershipEndForm", org_admin_membership_end),
    Scenario("casework:org_admin_membership#cancel", "OrgMembershipEndCancelForm", org_admin_membership_cancel),
    Scenario(
        "casework:org_admin_grant_decide",
        "OrgGrantDecideForm",
        org_admin_grant_decide,
        skip={"decision": "fixed choices"},
    ),
    Scenario("casework:retention_rule", "RetentionRuleForm", retention_rule),
    Scenario(
        "casework:retention",
        "DisposalProposeForm",
        retention_propose,
        skip={"candidates": "a choice among today's listed records"},
    ),
    Scenario("casework:disposal_decision", "DisposalDecideForm", disposal_decide, skip={"action": "fixed choices"}),
    Scenario("casework:legal_holds", "LegalHoldForm", legal_hold, lookup_only=("case_number",)),
    Scenario("casework:legal_hold_release", "LegalHoldReleaseForm", legal_hold_release),
    Scenario("places:create", "PlaceForm", place_create, transform={"activities_text": _tags}),
    Scenario("places:edit", "PlaceForm", place_edit, transform={"activities_text": _tags}),
    Scenario(
        "places:attendance",
        "places.AttendanceForm",
        place_attendance,
        skip={"participant_ref": "a choice among the place's participants"},
    ),
    Scenario("places:attendance_session", "places.AttendanceSessionForm", place_attendance_session),
    Scenario("referrals:new", "ReferralForm", referral_new("inter_agency")),
    Scenario("referrals:new#participation", "ReferralForm", referral_new("participation")),
    Scenario("referrals:new#tsunagi", "ReferralForm", referral_new("tsunagi")),
    Scenario("referrals:edit", "ReferralForm", referral_edit),
    Scenario("referrals:send", "SendForm", referral_send),
    Scenario("referrals:move", "MoveForm", referral_move, lookup_only=("outcome",)),
    Scenario("referrals:stage", "StageForm", referral_stage),
    Scenario("referrals:attendance", "referrals.AttendanceForm", referral_attendance),
    Scenario("referrals:note", "referrals.NoteForm", referral_note),
    Scenario(
        "referrals:open_case",
        "OpenCaseForm",
        tsunagi_open_case,
        transform={"family_name_kana": _kana, "given_name_kana": _kana},
    ),
    Scenario("meetings:create", "MeetingForm", meeting_create, transform={"online_url": _https}),
    Scenario("meetings:schedule", "MeetingScheduleForm", meeting_reschedule),
    Scenario("meetings:schedule#cancel", "MeetingCancelForm", meeting_cancel),
    Scenario("meetings:agenda", "AgendaAddForm", agenda_add, lookup_only=("case",)),
    Scenario("meetings:notes", "meetings.NoteForm", item_notes),
    Scenario("meetings:propose", "ProposalForm", case_propose),
    Scenario("meetings:decide", "DecisionForm", item_decide),
    Scenario("second_factor_setup", "TokenForm", second_factor_setup, lookup_only=("token",), baseline_refused=True),
    Scenario("second_factor_verify", "TokenForm", second_factor_verify, lookup_only=("token",), baseline_refused=True),
    Scenario(
        "password_change",
        "PasswordChangeForm",
        password_change,
        lookup_only=("old_password", "new_password1", "new_password2"),
        baseline_refused=True,
    ),
    Scenario("login", "LoginForm", login_form, lookup_only=("username", "password"), baseline_refused=True),
]


# ---------------------------------------------------------------------------
# The engine
# ---------------------------------------------------------------------------


@dataclass
class World:
    p: object
    login: Callable


def _watch() -> RowWatch:
    """Watch every table a form could change (volatile tables excluded) for rows that differ from now."""
    return RowWatch(t for t in connection.introspection.table_names() if not t.startswith(VOLATILE_TABLES))


def _text_columns():
    """(model, [text field names], [list field names]) of every model of the project's apps but the access log."""
    result = []
    for label in APPS:
        for model in apps.get_app_config(label).get_models():
            if model.__name__ == "AccessLog":
                continue
            texts = [f.name for f in model._meta.concrete_fields if isinstance(f, models.CharField | models.TextField)]
            lists = [f.name for f in model._meta.concrete_fields if isinstance(f, models.JSONField)]
            result.append((model, texts, lists))
    # Staff accounts (組織管理者's account form): names and login id, never the password hash.
    from django.contrib.auth import get_user_model

    result.append((get_user_model(), ["username", "last_name", "first_name", "email"], []))
    return result


def _stored_anywhere(columns, *values: str) -> bool:
    """Whether any of the values is stored in a text column or a list of any model, in one query."""
    from django.db.models import Q

    exists = []
    for model, texts, lists in columns:
        query = Q()
        for name in texts:
            query |= Q(**{f"{name}__in": values})
        for name in lists:
            for value in values:
                query |= Q(**{f"{name}__contains": [value]})
        if query:
            sql, params = model.objects.filter(query).values("pk")[:1].query.sql_with_params()
            exists.append((f"EXISTS ({sql})", params))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {' OR '.join(e for e, _ in exists)}", [p for _, params in exists for p in params])
        return cursor.fetchone()[0]


def _fuzzed_fields(target: Target, scenario: Scenario) -> list[tuple[str, forms.Field]]:
    fields = []
    for name, f in target.form.fields.items():
        full = name if name.startswith(target.prefix) else target.prefix + name
        if full in scenario.skip or name in scenario.skip:
            continue
        if isinstance(f, forms.ChoiceField | forms.ModelChoiceField | forms.BooleanField | forms.FileField):
            continue
        if isinstance(f, FUZZED_FIELDS):
            fields.append((full, f))
    return fields


def _plan(fields) -> list[tuple[str, forms.Field, list[Hostile]]]:
    """Which values go into which field.

    HOSTILE_FULL=1: every value into every field. Otherwise (the default suite): every field gets the
    values that must be refused plus a rotating share of the rest, and every form gets the whole corpus.
    """
    if os.environ.get("HOSTILE_FULL") == "1":
        return [(name, f, list(CORPUS)) for name, f in fields]
    refused = [h for h in CORPUS if h.label in {"nul", "lone_surrogate_high"}]
    rest = [h for h in CORPUS if h not in refused]
    share = max(2, math.ceil(len(rest) / len(fields)))
    return [
        (name, f, refused + [rest[(i * share + k) % len(rest)] for k in range(share)])
        for i, (name, f) in enumerate(fields)
    ]


def _refusal_text(response, client=None) -> str:
    """The Japanese messages a refused submission showed (form errors or error messages).

    A form posted to an action URL goes back to its page (core.refusals): the page it redirects to shows them.
    """
    texts = [m.message for m in get_messages(response.wsgi_request) if m.level >= message_levels.WARNING]
    if response.status_code == 302 and client is not None:
        response = client.get(response["Location"])
    if response.get("Content-Type", "").startswith("text/html"):
        texts += ALERT.findall(response.content.decode())
    return " ".join(str(t) for t in texts if JAPANESE.search(str(t)))


def _assert_no_raw_markup(response, where: str) -> None:
    if response.get("Content-Type", "").startswith("text/html"):
        body = response.content.decode()
        for needle in MARKUP_NEEDLES:
            assert needle not in body, f"unescaped markup on {where}"


def _attack(w: World, scenario: Scenario) -> dict:
    target = scenario.build(w)
    fields = _fuzzed_fields(target, scenario)
    assert fields, f"{scenario.url_name}: no field to attack"
    watch = _watch()
    columns = _text_columns()
    # The storage check below is only meaningful when the data starts without the value.
    typed = [h for h in CORPUS if not h.must_refuse]
    if _stored_anywhere(columns, *(stored_form(h.value) for h in typed)):
        assert not [h.label for h in typed if _stored_anywhere(columns, stored_form(h.value))]
    outcome = {"accepted": 0, "refused": 0}
    client = target.client
    # The baseline submission must save, or every refusal below would prove nothing.
    # Each submission runs in a savepoint rolled back afterwards, so the watch's digests stay those of the start.
    with transaction.atomic():
        watch.mark()
        response = client.post(target.url, urlencoded(target.data), content_type="application/x-www-form-urlencoded")
        saved = bool(watch.changed(rebase=False))
        transaction.set_rollback(True)
    assert saved != scenario.baseline_refused, (scenario.url_name, response.status_code, _refusal_text(response))
    for name, f, values in _plan(fields):
        for hostile in values:
            data = dict(target.data)
            data[name] = hostile.value
            with transaction.atomic():
                watch.mark()
                client.cookies.pop("messages", None)
                response = client.post(target.url, urlencoded(data), content_type="application/x-www-form-urlencoded")
                TALLY["hostile form submissions"] += 1
                where = f"{scenario.url_name} {name}={hostile.label}"
                assert response.status_code < 500, where
                assert response.status_code in {200, 302, 400, 409, *scenario.also_status}, (
                    where,
                    response.status_code,
                )
                _assert_no_raw_markup(response, where)
                changed = bool(watch.changed(rebase=False))
                if changed:
                    outcome["accepted"] += 1
                    _check_stored(w, scenario, target, name, f, hostile, columns, where)
                else:
                    outcome["refused"] += 1
                    # A by-design 404 (an unknown case number) confirms nothing, so it carries no message.
                    if response.status_code not in scenario.also_status:
                        assert _refusal_text(response, client), f"{where}: nothing saved and no Japanese message"
                transaction.set_rollback(True)
    return outcome


def _check_stored(w, scenario, target, name, f, hostile: Hostile, columns, where) -> None:
    assert not hostile.must_refuse, f"{where}: stored a value that must be refused"
    short = name.removeprefix(target.prefix)
    if name in scenario.lookup_only or short in scenario.lookup_only:
        return
    if isinstance(f, forms.CharField) and not _is_date(f):
        transform = scenario.transform.get(name) or scenario.transform.get(short)
        expected = transform(hostile.value) if transform else [stored_form(hostile.value)]
        for value in expected:
            if value:
                assert _stored_anywhere(columns, value), f"{where}: not stored exactly as typed ({value[:40]!r})"
    if hostile.markup:
        for url in target.shows:
            page = target.client.get(url)
            assert page.status_code == 200, (where, url, page.status_code)
            _assert_no_raw_markup(page, f"{url} after {where}")
            TALLY["pages checked for unescaped markup"] += 1


def _is_date(f) -> bool:
    return f.__class__.__name__ in {"WarekiDateField", "JapaneseDateField"}


@pytest.fixture(scope="module")
def personas(django_db_setup, django_db_blocker):
    """The personas once for the module, in a transaction rolled back at its end.

    Every scenario builds its rows and posts inside its own test's transaction (a savepoint in this one),
    rolled back after the test, so each scenario still starts from the personas alone.
    """
    from tests.conftest import build_personas

    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with override_settings(PASSWORD_HASHERS=fast), django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield build_personas()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.url_name for s in SCENARIOS])
def test_every_corpus_value_in_every_field_is_refused_with_a_message_or_stored_as_typed(scenario, db, personas, login):
    outcome = _attack(World(personas, login), scenario)
    TALLY["hostile forms"] += 1
    assert outcome["accepted"] + outcome["refused"] > 0


# ---------------------------------------------------------------------------
# Coverage: every URL and every form class is attacked here or named as not taking a POST form
# ---------------------------------------------------------------------------

# Views without a POST form of typed text, and why.
NOT_A_FORM = {
    "home": "page",
    "healthz": "probe",
    "logout": "POST without fields (see the unsafe-next tests)",
    "password_change_done": "page",
    "audit:log": "GET filters (test_hostile_get_filters)",
    "audit:export": "GET filters (test_hostile_get_filters)",
    "audit:person_history": "GET filters (test_hostile_get_filters)",
    "audit:report": "GET filters (test_hostile_get_filters)",
    "audit:chain": "page",
    "casework:case_list": "GET filters (test_hostile_get_filters)",
    "casework:case_mine": "GET filters",
    "casework:case_detail": "page",
    "casework:consent_form": "download",
    "casework:assessment_detail": "page",
    "casework:print_face_sheet": "print view",
    "casework:pdf_face_sheet": "download",
    "casework:print_intake_sheet": "print view",
    "casework:pdf_intake_sheet": "download",
    "casework:print_intake_blank": "print view",
    "casework:pdf_intake_blank": "download",
    "casework:genogram": "drawing",
    "casework:print_assessment_sheet": "print view",
    "casework:pdf_assessment_sheet": "download",
    "casework:print_plan_sheet": "print view",
    "casework:pdf_plan_sheet": "download",
    "casework:print_consent_blank": "print view",
    "casework:pdf_consent_blank": "download",
    "casework:print_consent_sheet": "print view",
    "casework:pdf_consent_sheet": "download",
    "casework:print_contact_sheet": "GET period (tests/paper/test_record_sheets.py)",
    "casework:pdf_contact_sheet": "GET period (tests/paper/test_record_sheets.py)",
    "casework:ecomap": "drawing",
    "casework:api_token_revoke": "POST without fields",
    "casework:calendar_feed": "ICS feed, GET only (the secret in the path; test_calendar_feed)",
    "casework:personal_settings": "page",
    "casework:calendar_feed_new": "POST without fields",
    "casework:calendar_feed_stop": "POST without fields",
    "casework:digest_settings": "one checkbox, no typed text (test_mail_digest)",
    "casework:scheduled_jobs": "page",
    "api_openapi": "public description, GET only",
    "hsds:root": "API, GET only (token)",
    "hsds:services": "API, GET only (token; page numbers checked in test_open_api)",
    "hsds:service": "API, GET only (token)",
    "hsds:organizations": "API, GET only (token)",
    "hsds:organization": "API, GET only (token)",
    "hsds:service_at_locations": "API, GET only (token)",
    "fhir:task_search": "API, GET only (token)",
    "fhir:task_read": "API, GET only (token)",
    "casework:disclosure_requests": "GET search (reading and birth date) and a POST of a person id, date and choice",
    "casework:disclosure_package_csv": "download",
    "casework:disclosure_package_pdf": "download",
    "casework:retention_run": "POST without fields",
    "casework:disposal_history": "page",
    "casework:file_ledger": "page",
    "casework:file_ledger_csv": "download",
    "casework:migration": "upload (tests/casework/test_migration.py: undecodable files, bad rows)",
    "casework:migration_run": "page",
    "casework:migration_mapping": "POST of choices among the file's own column names",
    "casework:migration_apply": "POST without fields",
    "casework:migration_cancel": "POST without fields",
    "places:list": "GET filters (test_hostile_get_filters)",
    "places:detail": "page",
    "places:match": "GET filters (test_hostile_get_filters)",
    "places:import": "upload (test_hostile_imports)",
    "places:import_job": "page",
    "places:import_confirm": "POST without fields",
    "places:export": "GET choices (test_hostile_exports)",
    "places:hsds": "download",
    "referrals:inbox": "page",
    "referrals:inbox_csv": "download (test_hostile_exports)",
    "referrals:outbox": "page",
    "referrals:detail": "page",
    "referrals:print_sheet": "print view",
    "referrals:pdf_sheet": "download",
    "meetings:list": "page",
    "meetings:detail": "page",
    "meetings:live": "fragment",
    "meetings:pledge": "POST of one fixed checkbox",
    "meetings:participants": "POST of a choice among users",
    "meetings:next": "POST without fields",
    "meetings:status": "POST of a fixed action",
    "meetings:minutes": "page",
    "meetings:print_minutes": "print view",
    "meetings:pdf_minutes": "download",
    "meetings:item": "page",
    "meetings:proposal_withdraw": "POST without fields",
    "indicators:dashboard": "GET filters (test_hostile_get_filters)",
    "indicators:drill": "GET filters (test_hostile_get_filters)",
    "indicators:export": "GET filters (test_hostile_exports)",
    "indicators:refresh": "POST without fields (queues a recount)",
    "active_membership_switch": "POST of a choice among the user's own memberships",
    "casework:todo": "GET choice (mine / the organization's)",
    "casework:calendar": "GET view and date (a bad date falls back to today: casework.calendar.views._parse_day)",
    "casework:notifications": "page with GET filter choices",
    "casework:notification_count": "fragment",
    "casework:notification_read_all": "POST without fields",
    "casework:notification_open": "redirect to the notification's target",
    "casework:org_admin": "page",
    "casework:person_matches": "page",
    "casework:person_match_list": "page",
    "casework:person_match": "page",
    "casework:person_match_agree": "POST without fields",
    "casework:approvals": "page",
}

# Form classes with no typed text to attack in a POST, and why.
NOT_ATTACKED_FORMS = {
    "CleanTextForm": "base class",
    "PersonForm": "base of MemberForm, attacked through the intake and member forms",
    "ReauthTokenForm": "TokenForm plus the password, attacked through TokenForm",
    "ParticipantAddForm": "a choice among users",
    "DirectoryFilterForm": "GET filter (test_hostile_get_filters)",
    "MatchForm": "GET filter (test_hostile_get_filters)",
    "ImportForm": "upload (test_hostile_imports)",
    "DisclosureSearchForm": "GET search (tests/casework/test_disclosure_requests.py)",
    "DisclosureOpenForm": "a person id, a date and a choice (tests/casework/test_disclosure_requests.py)",
    "MigrationUploadForm": "upload (tests/casework/test_migration.py)",
    "MigrationMappingForm": "choices among the file's own column names",
    "ExportForm": "export choices (test_hostile_exports)",
    "DateRangeForm": "GET filter base",
    "ReportRangeForm": "GET filter (test_hostile_get_filters)",
    "LogFilterForm": "GET filter (test_hostile_get_filters)",
    "PersonHistoryForm": "GET filter (test_hostile_get_filters)",
    "ContactPeriodForm": "GET period of a printed record (tests/paper/test_record_sheets.py)",
}

FORM_MODULES = ("casework.forms", "casework.audit.forms", "casework.accounts.views", "places.forms")
FORM_MODULES += ("referrals.forms", "meetings.forms")


def test_every_url_of_the_project_is_attacked_or_named_as_not_a_form():
    attacked = {s.url_name.split("#")[0] for s in SCENARIOS}
    missing = [name for name, _path in all_urls() if name not in attacked and name not in NOT_A_FORM]
    assert not missing, f"URLs neither attacked nor listed in NOT_A_FORM: {missing}"


def test_every_form_class_is_attacked_or_named_as_not_taking_typed_text():
    import importlib

    attacked = {s.form_class.split(".")[-1] for s in SCENARIOS}
    missing = []
    for module_name in FORM_MODULES:
        module = importlib.import_module(module_name)
        for name, obj in inspect.getmembers(module, inspect.isclass):
            if obj.__module__ != module_name or not issubclass(obj, forms.BaseForm):
                continue
            if name not in attacked and name not in NOT_ATTACKED_FORMS:
                missing.append(f"{module_name}.{name}")
    assert not missing, f"forms neither attacked nor listed in NOT_ATTACKED_FORMS: {missing}"
