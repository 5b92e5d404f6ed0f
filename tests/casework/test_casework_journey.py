"""Done when: a caseworker takes in a household of two, records consent, assessment, plan and contacts,
moves the case to 終結 (the plan and the closure each approved by the window's supervisor: 決裁), and another
window's caseworker gets 404 on every URL of it."""

import re

import pytest
from django.urls import reverse

from casework.assessment import SCHEMAS
from casework.models import AccessLog, ApprovalRequest, Case, CaseState, ContactRecord, SupportPlan


@pytest.mark.django_db
def test_a_case_from_intake_to_closure_through_the_screens(personas, login):
    from tests.casework.test_input_safety import _intake

    client = login(personas.caseworker_a)
    assert _intake(client).status_code == 302
    case = Case.objects.get()
    persons = list(case.subjects.order_by("id"))
    urls = [reverse("casework:case_detail", args=[case.pk])]

    def post(name, data, *extra):
        response = client.post(reverse(f"casework:{name}", args=[case.pk, *extra]), data)
        assert response.status_code == 302, response.content.decode()[-2500:]
        return response

    for person in persons:
        post(
            "consent_create",
            {
                "person": person.pk,
                "status": "given",
                "given_by": "self",
                "given_on": "令和7年6月2日",
                "method": "written",
                "scope_kind": "case_team",
                "purposes": ["share_with_agencies", "layered_meeting"],
            },
        )
    post("transition", {"to_state": "assessment", "expected_version": 1})
    answers = {f"item_{key}": "some" for key, _label in SCHEMAS[1]}
    post(
        "assessment_create", {"assessed_on": "令和7年6月3日", "narrative": "母の介護負担と息子のひきこもり", **answers}
    )
    post("transition", {"to_state": "planning", "expected_version": 2})
    post(
        "plan_create",
        {
            "goals": "母の介護サービス利用と息子の社会参加",
            "period_start": "R7.6.10",
            "period_end": "R8.3.31",
            "next_review_on": "R7.9.1",
            "includes_participation_support": "on",
        },
    )
    plan = SupportPlan.objects.get(case=case)
    post("plan_detail", {"form": "role", "organization": personas.window_a.pk, "role": "介護サービス調整"}, plan.pk)
    post("plan_detail", {"form": "propose"}, plan.pk)
    boss = login(personas.supervisor_a)

    def supervisor_approves():
        approval = ApprovalRequest.objects.get(case=case, state="pending")
        url = reverse("casework:approval_detail", args=[case.pk, approval.pk])
        assert boss.post(url, {"decision": "approve", "comment": "確認しました"}).status_code == 302

    post("plan_detail", {"form": "approve", "decided_by_label": "重層的支援会議 2025-06-20"}, plan.pk)
    case.refresh_from_db()
    assert case.state == CaseState.PLANNING  # waiting for the supervisor's 決裁
    supervisor_approves()
    case.refresh_from_db()
    assert case.state == CaseState.IN_SUPPORT and case.next_review_on is not None
    post(
        "contact_create",
        {
            "occurred_on": "令和7年6月25日",
            "occurred_time": "10:00",
            "kind": "absent",
            "is_outreach": "on",
            "summary": "訪問したが不在。手紙を置いた。",
        },
    )
    post(
        "contact_create",
        {
            "occurred_on": "令和7年7月1日",
            "occurred_time": "14:30",
            "kind": "visit",
            "person": persons[1].pk,
            "is_outreach": "on",
            "summary": "玄関先で短く会話できた。",
        },
    )
    assert ContactRecord.objects.filter(case=case, is_outreach=True).count() == 2
    case.refresh_from_db()
    # Closing lists what is still open: the approved plan stays as the record, the review date is cleared.
    approved = SupportPlan.objects.get(case=case, status="approved")
    post(
        "transition",
        {
            "to_state": "closed",
            "reason": "目標を達成し地域の見守りへ移行",
            "decided_by_label": "重層的支援会議",
            "expected_version": case.version,
            f"open-plan-{approved.pk}": "keep",
            "open-review": "clear",
        },
    )
    case.refresh_from_db()
    assert case.state == CaseState.IN_SUPPORT
    supervisor_approves()
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED
    html = client.get(urls[0]).content.decode()
    assert "終結" in html and "目標を達成し地域の見守りへ移行" in html and "同意あり" in html
    # Every URL on the detail page that belongs to this case is 404 for the other window.
    urls += sorted(set(re.findall(rf'href="(/cases/{case.pk}/[^"]*)"', html)))
    urls.append(reverse("casework:plan_detail", args=[case.pk, plan.pk]))
    other = login(personas.caseworker_b)
    for url in urls:
        assert other.get(url.replace("&amp;", "&")).status_code == 404, url
    assert AccessLog.objects.filter(actor=personas.caseworker_b, action=AccessLog.Action.DENIED).count() == len(urls)
