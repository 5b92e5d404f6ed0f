"""Who sees what: the lead window and its team see a case; everyone else gets 404 and a denied log row."""

import pytest
from django.urls import reverse

from casework.assessment import SCHEMAS
from casework.models import AccessLog, Assessment, Consent, SupportPlan
from casework.services.cases import case_team_remove
from casework.services.consent import consent_record
from casework.services.plans import assessment_record, plan_create
from tests.factories import add_to_team

CASE_URLS = [
    "case_detail",
    "transition",
    "team",
    "member_add",
    "consent_create",
    "assessment_create",
    "plan_create",
    "contact_create",
]
OUTSIDERS = ["caseworker_b", "coordinator", "place_staff", "chair", "auditor", "administrator"]


def _record_urls(case, by):
    """URLs of records under the case, created through the services."""
    from datetime import date

    person = case.subjects.first()
    consent = consent_record(
        person=person,
        case=case,
        given_on=date(2025, 4, 1),
        method=Consent.Method.WRITTEN,
        explained_by=by,
        scope_kind=Consent.ScopeKind.CASE_TEAM,
        purposes=["share_with_agencies"],
        by=by,
    )
    checklist = {key: "unknown" for key, _label in SCHEMAS[1]}
    assessment = assessment_record(
        case=case, checklist=checklist, narrative="所見", assessed_on=date(2025, 4, 2), by=by
    )
    plan = plan_create(case=case, goals="目標", by=by)
    return [
        reverse("casework:consent_withdraw", args=[case.pk, consent.pk]),
        reverse("casework:assessment_detail", args=[case.pk, assessment.pk]),
        reverse("casework:plan_detail", args=[case.pk, plan.pk]),
    ]


def _all_urls(case, by):
    return [reverse(f"casework:{name}", args=[case.pk]) for name in CASE_URLS] + _record_urls(case, by)


@pytest.mark.django_db
def test_the_lead_windows_caseworker_and_supervisor_open_every_url(personas, login, case_a):
    urls = _all_urls(case_a, personas.caseworker_a)
    for user in [personas.caseworker_a, personas.supervisor_a]:
        client = login(user)
        for url in urls:
            assert client.get(url).status_code == 200, (user.username, url)


@pytest.mark.django_db
@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_it_returns_404_to_everyone_outside_the_case(personas, login, case_a, outsider):
    urls = _all_urls(case_a, personas.caseworker_a)
    user = getattr(personas, outsider)
    client = login(user)
    for url in urls:
        assert client.get(url).status_code == 404, (outsider, url)
        # GET-only pages answer 405 to a POST whether or not the case exists, which reveals nothing.
        assert client.post(url, {}).status_code in (404, 405), (outsider, url)


@pytest.mark.django_db
def test_anonymous_visitors_go_to_the_login_page(personas, login, case_a):
    client = login(None)
    for url in _all_urls(case_a, personas.caseworker_a):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_a_nonexistent_case_looks_exactly_like_a_forbidden_one(personas, login, case_a):
    client = login(personas.caseworker_b)
    forbidden = client.get(reverse("casework:case_detail", args=[case_a.pk]))
    missing = client.get(reverse("casework:case_detail", args=[case_a.pk + 1000]))
    assert forbidden.status_code == missing.status_code == 404
    # Same page apart from the per-response CSRF token.
    import re

    strip = lambda r: re.sub(r'value="[A-Za-z0-9]{64}"', "", re.sub(r'"X-CSRFToken": "[^"]*"', "", r.content.decode()))  # noqa: E731
    assert strip(forbidden) == strip(missing)


@pytest.mark.django_db
def test_the_view_is_logged_with_every_person_of_the_case(personas, login, case_a):
    person_ids = sorted(case_a.household.members.values_list("person_id", flat=True))
    login(personas.caseworker_a).get(reverse("casework:case_detail", args=[case_a.pk]))
    row = AccessLog.objects.filter(action=AccessLog.Action.VIEW, object_type="case").latest("id")
    assert row.actor == personas.caseworker_a
    assert row.object_id == str(case_a.pk)
    assert row.person_ids == person_ids
    assert row.basis == AccessLog.Basis.OWN_ORGANIZATION


@pytest.mark.django_db
def test_a_supervisors_view_is_logged_as_supervision(personas, login, case_a):
    login(personas.supervisor_a).get(reverse("casework:case_detail", args=[case_a.pk]))
    row = AccessLog.objects.filter(actor=personas.supervisor_a, object_type="case").latest("id")
    assert row.basis == AccessLog.Basis.SUPERVISION


@pytest.mark.django_db
def test_an_outsiders_attempt_is_logged_as_denied(personas, login, case_a):
    login(personas.caseworker_b).get(reverse("casework:case_detail", args=[case_a.pk]))
    row = AccessLog.objects.filter(actor=personas.caseworker_b).latest("id")
    assert row.action == AccessLog.Action.DENIED
    assert row.outcome == AccessLog.Outcome.DENIED
    assert row.object_id == str(case_a.pk)
    assert row.person_ids == []


@pytest.mark.django_db
def test_a_record_of_another_case_is_404_even_for_a_member(personas, login, case_a):
    from tests.factories import make_case

    other = make_case(lead_organization=personas.window_a, by=personas.caseworker_a)
    plan = plan_create(case=other, goals="別ケースの目標", by=personas.caseworker_a)
    client = login(personas.caseworker_a)
    assert client.get(reverse("casework:plan_detail", args=[case_a.pk, plan.pk])).status_code == 404
    assert client.get(reverse("casework:plan_detail", args=[other.pk, plan.pk])).status_code == 200


@pytest.mark.django_db
def test_adding_the_other_window_to_the_team_gives_access_on_the_next_request_and_removal_takes_it(
    personas, login, case_a
):
    client = login(personas.caseworker_b)
    url = reverse("casework:case_detail", args=[case_a.pk])
    assert client.get(url).status_code == 404
    add_to_team(case_a, personas.window_b, by=personas.caseworker_a)
    assert client.get(url).status_code == 200
    assert client.get(reverse("casework:contact_create", args=[case_a.pk])).status_code == 200
    case_team_remove(case=case_a, organization=personas.window_b, by=personas.caseworker_a)
    assert client.get(url).status_code == 404


@pytest.mark.django_db
def test_team_changes_through_the_screen(personas, login, case_a):
    from tests.factories import give_sharing_consent

    client = login(personas.caseworker_a)
    url = reverse("casework:team", args=[case_a.pk])
    # Adding an organization is a share: refused with a message until the subjects' consent names it.
    response = client.post(url, {"form": "add", "organization": personas.window_b.pk, "note": "障害福祉"})
    assert response.status_code == 200 and "加える根拠がありません" in response.content.decode()
    assert login(personas.caseworker_b).get(reverse("casework:case_detail", args=[case_a.pk])).status_code == 404
    give_sharing_consent(case_a, organization=personas.window_b, by=personas.caseworker_a)
    assert (
        client.post(url, {"form": "add", "organization": personas.window_b.pk, "note": "障害福祉"}).status_code == 302
    )
    assert login(personas.caseworker_b).get(reverse("casework:case_detail", args=[case_a.pk])).status_code == 200
    client.post(url, {"form": "remove", "organization": personas.window_b.pk})
    assert login(personas.caseworker_b).get(reverse("casework:case_detail", args=[case_a.pk])).status_code == 404
    # The lead organization cannot be removed.
    client.post(url, {"form": "remove", "organization": personas.window_a.pk})
    assert client.get(reverse("casework:case_detail", args=[case_a.pk])).status_code == 200


@pytest.mark.django_db
def test_the_case_screens_do_not_exist_for_place_staff_and_administrators(personas, login):
    for user in [personas.place_staff, personas.administrator, personas.auditor]:
        client = login(user)
        for name in ["case_list", "case_intake", "break_glass"]:
            assert client.get(reverse(f"casework:{name}")).status_code == 404


@pytest.mark.django_db
def test_the_list_shows_only_the_users_caseload(personas, login, case_a):
    from tests.factories import make_case

    other = make_case(lead_organization=personas.window_b, by=personas.caseworker_b, family_name="別窓口")
    html = login(personas.caseworker_a).get(reverse("casework:case_list")).content.decode()
    assert case_a.number in html and other.number not in html
    row = AccessLog.objects.filter(actor=personas.caseworker_a, action=AccessLog.Action.LIST).latest("id")
    assert row.person_ids == sorted(case_a.subjects.values_list("pk", flat=True))


@pytest.mark.django_db
def test_a_secret_address_is_hidden_from_the_team_but_shown_to_the_lead(personas, login):
    from tests.factories import make_case

    case = make_case(
        lead_organization=personas.window_a,
        by=personas.caseworker_a,
        city="みどり市",
        street="秘匿町1-2-3",
        address_secret=True,
    )
    add_to_team(case, personas.window_b, by=personas.caseworker_a)
    url = reverse("casework:case_detail", args=[case.pk])
    assert "秘匿町1-2-3" in login(personas.caseworker_a).get(url).content.decode()
    assert "秘匿町1-2-3" not in login(personas.caseworker_b).get(url).content.decode()


@pytest.mark.django_db
def test_a_scanned_consent_form_is_served_only_to_the_case_team_as_an_attachment(
    personas, login, case_a, settings, tmp_path
):
    from datetime import date

    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    consent = consent_record(
        person=case_a.subjects.first(),
        case=case_a,
        given_on=date(2025, 4, 1),
        method=Consent.Method.WRITTEN,
        explained_by=personas.caseworker_a,
        scope_kind=Consent.ScopeKind.CASE_TEAM,
        purposes=["share_with_agencies"],
        scanned_form=SimpleUploadedFile("山田太郎の同意書.pdf", b"%PDF-1.4 test", content_type="application/pdf"),
        by=personas.caseworker_a,
    )
    url = reverse("casework:consent_form", args=[case_a.pk, consent.pk])
    response = login(personas.caseworker_a).get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert "山田" not in consent.scanned_form.name
    assert b"".join(response.streaming_content) == b"%PDF-1.4 test"
    assert login(personas.caseworker_b).get(url).status_code == 404
    row = AccessLog.objects.filter(actor=personas.caseworker_a, object_type="consent").latest("id")
    assert row.action == AccessLog.Action.EXPORT and row.person_ids == [consent.person_id]


@pytest.mark.django_db
def test_plans_and_assessments_carry_no_grants_of_their_own(personas, case_a):
    from casework.models import CaseGroupObjectPermission

    assert set(
        CaseGroupObjectPermission.objects.filter(content_object=case_a).values_list("permission__codename", flat=True)
    ) == {"view_case", "change_case"}
    assert SupportPlan._meta.get_field("case") and Assessment._meta.get_field("case")
