"""The edit screens: persons, the household and its members, the case's details, the lead and the review date."""

import threading
from datetime import date

import pytest
from django.db import connection
from django.urls import reverse

from casework.models import AccessLog, Case, CaseLeadChange, CaseTeamMembership, HouseholdMember, Person, SupportPlan
from casework.services.cases import case_change_lead, case_update
from casework.services.common import CaseChanged
from casework.services.plans import plan_approve, plan_create
from tests.factories import PersonFactory, add_to_team, make_case

EDIT_URL_NAMES = ["person_edit", "household_edit", "household_member_edit", "case_edit", "case_change_lead"]
DENIED = ["caseworker_b", "place_staff", "auditor"]


@pytest.fixture
def team_case(personas):
    """Window A's case with the coordinator organization on its team and a secret-address subject."""
    person = PersonFactory(
        family_name="𠮷田",
        given_name="花子",
        postal_code="123-4567",
        prefecture="東京都",
        city="みどり市",
        street="秘密町1-2-3",
        address_secret=True,
    )
    case = make_case(lead_organization=personas.window_a, by=personas.caseworker_a, persons=[person])
    add_to_team(case, personas.coordinator_org, by=personas.caseworker_a)
    return case


def _url(name, case):
    person = case.subjects.first()
    member = HouseholdMember.objects.get(household=case.household, person=person)
    args = {
        "person_edit": [case.pk, person.pk],
        "household_member_edit": [case.pk, member.pk],
    }.get(name, [case.pk])
    return reverse(f"casework:{name}", args=args)


def _person_post(**overrides):
    data = {
        "family_name": "𠮷田",
        "given_name": "花子",
        "family_name_kana": "よしだ",
        "given_name_kana": "ﾊﾅｺ",
        "birth_date": "昭和45年4月1日",
        "gender": "female",
        "postal_code": "123-4567",
        "prefecture": "東京都",
        "city": "みどり市",
        "street": "秘密町1-2-3",
        "address_secret": "on",
    }
    data.update(overrides)
    return data


def _case_post(case, **overrides):
    data = {
        "domains": ["elderly", "poverty"],
        "main_category": "livelihood",
        "categories": ["care", "debt"],
        "intake_route": "family",
        "lead_worker": "",
        "summary": "家計の相談が中心になった",
        "expected_version": case.version,
    }
    data.update(overrides)
    return data


# ---------------------------------------------------------------------------
# Who may open the new screens
# ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", EDIT_URL_NAMES)
def test_the_lead_windows_caseworker_opens_every_edit_screen(personas, login, team_case, name):
    assert login(personas.caseworker_a).get(_url(name, team_case)).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("name", EDIT_URL_NAMES)
def test_a_case_team_member_does_not_open_the_lead_only_edit_screens(personas, login, team_case, name):
    # Persons, household and the case's details are changed by the lead organization only.
    client = login(personas.coordinator)
    assert client.get(team_case.get_absolute_url()).status_code == 200
    assert client.get(_url(name, team_case)).status_code == 404


@pytest.mark.django_db
def test_only_the_lead_organization_may_hand_the_lead_over(personas, login, team_case):
    url = _url("case_change_lead", team_case)
    assert login(personas.supervisor_a).get(url).status_code == 200
    team_member = login(personas.coordinator)
    assert team_member.get(url).status_code == 404
    response = team_member.post(url, {"organization": personas.coordinator_org.pk, "reason": "引き継ぎ"})
    assert response.status_code == 404
    assert Case.objects.get(pk=team_case.pk).lead_organization == personas.window_a
    assert AccessLog.objects.filter(actor=personas.coordinator, action=AccessLog.Action.DENIED).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("outsider", DENIED)
@pytest.mark.parametrize("name", EDIT_URL_NAMES)
def test_it_returns_404_to_another_window_place_staff_and_the_auditor(personas, login, team_case, name, outsider):
    client = login(getattr(personas, outsider))
    url = _url(name, team_case)
    assert client.get(url).status_code == 404
    assert client.post(url, {"name": "乗っ取り", "reason": "x"}).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("name", EDIT_URL_NAMES)
def test_anonymous_visitors_go_to_the_login_page(personas, login, team_case, name):
    response = login(None).get(_url(name, team_case))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_a_person_of_another_case_is_404_even_for_the_lead(personas, login, team_case):
    other = make_case(lead_organization=personas.window_a, by=personas.caseworker_a)
    stranger = other.subjects.first()
    client = login(personas.caseworker_a)
    assert client.get(reverse("casework:person_edit", args=[team_case.pk, stranger.pk])).status_code == 404
    member = HouseholdMember.objects.get(person=stranger)
    assert client.get(reverse("casework:household_member_edit", args=[team_case.pk, member.pk])).status_code == 404


@pytest.mark.django_db
def test_the_case_page_links_every_edit_screen(personas, login, team_case):
    page = login(personas.caseworker_a).get(team_case.get_absolute_url()).content.decode()
    for name in EDIT_URL_NAMES:
        assert _url(name, team_case) in page, name
    # A team member sees none of them: only the lead organization changes the case.
    page = login(personas.coordinator).get(team_case.get_absolute_url()).content.decode()
    for name in EDIT_URL_NAMES:
        assert _url(name, team_case) not in page, name


# ---------------------------------------------------------------------------
# Persons
# ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_person_edit_keeps_names_exactly_as_typed_and_folds_only_the_furigana(personas, login, team_case):
    person = team_case.subjects.first()
    url = _url("person_edit", team_case)
    name = "\ufa19\u5c3e\u9ad9"  # 神 (CJK compatibility U+FA19) + 尾 + 髙: NFC would change the first one.
    response = login(personas.caseworker_a).post(url, _person_post(family_name=name, given_name="\U00020bb7子"))
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.family_name == name
    assert person.given_name == "\U00020bb7子"
    assert person.family_name_kana == "ヨシダ"
    assert person.given_name_kana == "ハナコ"
    assert person.birth_date == date(1970, 4, 1)
    row = AccessLog.objects.filter(action=AccessLog.Action.CHANGE, object_type="person").latest("id")
    assert row.actor == personas.caseworker_a and row.person_ids == [person.pk]


@pytest.mark.django_db
def test_opening_the_person_edit_logs_a_view_of_that_person_only(personas, login, team_case):
    person = team_case.subjects.first()
    login(personas.caseworker_a).get(_url("person_edit", team_case))
    row = AccessLog.objects.filter(actor=personas.caseworker_a).latest("id")
    assert (row.action, row.object_type, row.object_id) == (AccessLog.Action.VIEW, "person", str(person.pk))
    assert row.person_ids == [person.pk] and row.basis == AccessLog.Basis.OWN_ORGANIZATION


@pytest.mark.django_db
def test_the_person_edit_shows_the_birth_date_in_wareki(personas, login, team_case):
    page = login(personas.caseworker_a).get(_url("person_edit", team_case)).content.decode()
    assert "昭和45年4月1日" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("birth_date", "令和99年13月1日", "令和99年13月1日は存在しない日付です"),
        ("family_name_kana", "Yoshida", "フリガナはカタカナ"),
        ("postal_code", "12-34", "郵便番号は"),
        ("family_name", "山\x00田", "使用できない文字"),
    ],
)
def test_bad_person_input_gets_a_japanese_message_and_changes_nothing(
    personas, login, team_case, field, value, message
):
    person = team_case.subjects.first()
    before = Person.objects.filter(pk=person.pk).values().get()
    response = login(personas.caseworker_a).post(_url("person_edit", team_case), _person_post(**{field: value}))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Person.objects.filter(pk=person.pk).values().get() == before


@pytest.mark.django_db
def test_a_secret_address_is_hidden_from_a_team_member_and_cannot_be_changed_by_them(personas, login, team_case):
    person = team_case.subjects.first()
    client = login(personas.coordinator)
    # Persons are changed by the lead organization only: the team member gets 404 and nothing changes.
    assert client.get(_url("person_edit", team_case)).status_code == 404
    response = client.post(
        _url("person_edit", team_case),
        _person_post(street="書き換え町9", postal_code="999-9999", address_secret="", given_name="華子"),
    )
    assert response.status_code == 404
    person.refresh_from_db()
    assert person.given_name == "花子"
    assert person.street == "秘密町1-2-3" and person.postal_code == "123-4567" and person.address_secret is True
    # The case page hides it from them too.
    assert "秘密町" not in client.get(team_case.get_absolute_url()).content.decode()


@pytest.mark.django_db
def test_the_lead_sees_and_edits_a_secret_address(personas, login, team_case):
    person = team_case.subjects.first()
    client = login(personas.caseworker_a)
    assert "秘密町1-2-3" in client.get(_url("person_edit", team_case)).content.decode()
    client.post(_url("person_edit", team_case), _person_post(street="新町5-6"))
    person.refresh_from_db()
    assert person.street == "新町5-6" and person.address_secret is True


@pytest.mark.django_db
def test_a_person_edit_ignores_fields_the_form_does_not_have(personas, login, team_case):
    person = team_case.subjects.first()
    created_by = person.created_by_id
    login(personas.caseworker_a).post(
        _url("person_edit", team_case), _person_post(created_by=personas.caseworker_b.pk, search_key="x")
    )
    person.refresh_from_db()
    assert person.created_by_id == created_by and person.search_key != "x"


# ---------------------------------------------------------------------------
# The household and its members
# ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_household_edit_changes_name_tags_and_note(personas, login, team_case):
    response = login(personas.supervisor_a).post(
        _url("household_edit", team_case),
        {"name": "𠮷田さん世帯", "tags": ["8050", "double_care"], "note": "長男は隣県に住む"},
    )
    assert response.status_code == 302
    household = team_case.household
    household.refresh_from_db()
    assert (household.name, household.tags, household.note) == (
        "𠮷田さん世帯",
        ["8050", "double_care"],
        "長男は隣県に住む",
    )
    assert AccessLog.objects.filter(
        actor=personas.supervisor_a, action=AccessLog.Action.CHANGE, object_type="household"
    ).exists()


@pytest.mark.django_db
def test_a_bad_household_tag_or_empty_name_changes_nothing(personas, login, team_case):
    client = login(personas.caseworker_a)
    before = team_case.household.name
    response = client.post(_url("household_edit", team_case), {"name": "", "tags": ["8050"]})
    assert response.status_code == 200 and "必須" in response.content.decode()
    response = client.post(_url("household_edit", team_case), {"name": "新しい名前", "tags": ["my_number"]})
    assert response.status_code == 200 and "正しく選択してください" in response.content.decode()
    team_case.household.refresh_from_db()
    assert team_case.household.name == before and team_case.household.tags == []


@pytest.mark.django_db
def test_a_member_changes_relationship_and_moves_out(personas, login, team_case):
    member = HouseholdMember.objects.get(household=team_case.household)
    response = login(personas.caseworker_a).post(
        _url("household_member_edit", team_case),
        {"form": "member", "relationship": "child", "relationship_note": "長女", "since": "R1.5.1"},
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.relationship == "child" and member.relationship_note == "長女"
    assert member.lives_together is False and member.since == date(2019, 5, 1)


@pytest.mark.django_db
def test_ending_a_membership_keeps_the_row_as_history(personas, login, team_case):
    member = HouseholdMember.objects.get(household=team_case.household)
    client = login(personas.caseworker_a)
    response = client.post(_url("household_member_edit", team_case), {"form": "end", "until": "令和7年3月31日"})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.until == date(2025, 3, 31)
    assert HouseholdMember.objects.filter(household=team_case.household).count() == 1
    assert "令和7年3月31日まで" in client.get(team_case.get_absolute_url()).content.decode()
    # Ending twice is refused with a message.
    response = client.post(_url("household_member_edit", team_case), {"form": "end", "until": "令和7年4月1日"})
    assert response.status_code == 200 and "すでに世帯から外れています" in response.content.decode()


@pytest.mark.django_db
def test_a_bad_end_date_changes_nothing(personas, login, team_case):
    member = HouseholdMember.objects.get(household=team_case.household)
    client = login(personas.caseworker_a)
    response = client.post(_url("household_member_edit", team_case), {"form": "end", "until": "令和99年13月1日"})
    assert response.status_code == 200 and "存在しない日付です" in response.content.decode()
    response = client.post(_url("household_member_edit", team_case), {"form": "end", "until": "2999-01-01"})
    assert response.status_code == 200 and "未来の日付" in response.content.decode()
    member.refresh_from_db()
    assert member.until is None


# ---------------------------------------------------------------------------
# The case's details
# ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_case_edit_changes_domains_categories_route_worker_and_summary(personas, login, team_case):
    response = login(personas.supervisor_a).post(
        _url("case_edit", team_case), _case_post(team_case, lead_worker=personas.supervisor_a.pk)
    )
    assert response.status_code == 302
    case = Case.objects.get(pk=team_case.pk)
    assert case.domains == ["elderly", "poverty"]
    assert case.main_category == "livelihood" and case.categories == ["livelihood", "care", "debt"]
    assert case.intake_route == "family" and case.summary == "家計の相談が中心になった"
    assert case.lead_worker == personas.supervisor_a
    assert case.version == team_case.version + 1
    row = AccessLog.objects.filter(actor=personas.supervisor_a, action=AccessLog.Action.CHANGE).latest("id")
    assert row.object_type == "case" and row.object_id == str(case.pk)


@pytest.mark.django_db
def test_a_lead_worker_from_another_organization_is_refused(personas, login, team_case):
    response = login(personas.caseworker_a).post(
        _url("case_edit", team_case), _case_post(team_case, lead_worker=personas.coordinator.pk)
    )
    assert response.status_code == 200
    assert "主担当者は主担当機関の職員から選んでください" in response.content.decode()
    case = Case.objects.get(pk=team_case.pk)
    assert case.lead_worker == personas.caseworker_a and case.version == team_case.version
    assert case.domains == ["elderly"]


@pytest.mark.django_db
def test_a_case_edit_without_a_domain_is_refused(personas, login, team_case):
    response = login(personas.caseworker_a).post(_url("case_edit", team_case), _case_post(team_case, domains=[]))
    assert response.status_code == 200 and "必須" in response.content.decode()
    assert Case.objects.get(pk=team_case.pk).version == team_case.version


@pytest.mark.django_db
def test_a_stale_case_edit_is_refused_with_a_message(personas, login, team_case):
    client = login(personas.caseworker_a)
    stale = _case_post(team_case, summary="古い画面からの上書き")
    client.post(_url("case_edit", team_case), _case_post(team_case, summary="先に保存した内容"))
    response = client.post(_url("case_edit", team_case), stale, follow=True)
    assert "他の職員により更新されました" in response.content.decode()
    assert Case.objects.get(pk=team_case.pk).summary == "先に保存した内容"
    conflict = client.post(_url("case_edit", team_case), stale, HTTP_ACCEPT="application/json")
    assert conflict.status_code == 409 and conflict.json()["error"] == "conflict"


@pytest.mark.django_db
def test_the_case_edit_ignores_state_lead_organization_number_and_version(personas, login, team_case):
    post = _case_post(
        team_case,
        state="closed",
        lead_organization=personas.window_b.pk,
        number="R1-999999",
        version=99,
        next_review_on="2030-01-01",
    )
    assert login(personas.caseworker_a).post(_url("case_edit", team_case), post).status_code == 302
    case = Case.objects.get(pk=team_case.pk)
    assert case.state == team_case.state and case.lead_organization == personas.window_a
    assert case.number == team_case.number and case.version == team_case.version + 1
    assert case.next_review_on is None


# ---------------------------------------------------------------------------
# Changing the lead organization
# ---------------------------------------------------------------------------


def _lead_post(case, organization, worker=None, reason="障害分野の支援が中心になったため（重層的支援会議で合意）"):
    return {
        "organization": organization.pk,
        "lead_worker": worker.pk if worker else "",
        "reason": reason,
        "expected_version": case.version,
    }


@pytest.mark.django_db
def test_changing_the_lead_moves_grants_writes_history_and_the_access_log(personas, login, team_case):
    newcomer = login(personas.caseworker_b)
    assert newcomer.get(team_case.get_absolute_url()).status_code == 404
    response = login(personas.caseworker_a).post(
        _url("case_change_lead", team_case), _lead_post(team_case, personas.window_b, personas.caseworker_b)
    )
    assert response.status_code == 302
    case = Case.objects.get(pk=team_case.pk)
    assert case.lead_organization == personas.window_b and case.lead_worker == personas.caseworker_b
    # The new lead sees the case, and its secret address, on the very next request.
    page = newcomer.get(team_case.get_absolute_url())
    assert page.status_code == 200 and "秘密町1-2-3" in page.content.decode()
    # The old lead stays on the team: it keeps access but no longer sees the secret address.
    old = login(personas.caseworker_a).get(team_case.get_absolute_url())
    assert old.status_code == 200 and "秘密町1-2-3" not in old.content.decode()
    active = set(
        CaseTeamMembership.objects.filter(case=case, ended_at__isnull=True).values_list("organization", flat=True)
    )
    assert active == {personas.window_a.pk, personas.window_b.pk, personas.coordinator_org.pk}
    change = CaseLeadChange.objects.get(case=case)
    assert (change.from_organization, change.to_organization) == (personas.window_a, personas.window_b)
    assert (change.from_worker, change.to_worker, change.by) == (
        personas.caseworker_a,
        personas.caseworker_b,
        personas.caseworker_a,
    )
    assert change.reason.startswith("障害分野")
    row = AccessLog.objects.filter(actor=personas.caseworker_a, action=AccessLog.Action.CHANGE).latest("id")
    assert row.object_type == "case" and row.object_id == str(case.pk)
    # The history is on the case page.
    assert "障害分野の支援が中心になったため" in old.content.decode()


@pytest.mark.django_db
def test_the_old_lead_loses_the_hand_over_screen_and_the_new_one_gains_it(personas, login, team_case):
    login(personas.caseworker_a).post(_url("case_change_lead", team_case), _lead_post(team_case, personas.window_b))
    assert login(personas.caseworker_a).get(_url("case_change_lead", team_case)).status_code == 404
    assert login(personas.caseworker_b).get(_url("case_change_lead", team_case)).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("org", "worker", "reason", "message"),
    [
        ("window_b", None, "   ", "理由を入力してください"),
        ("municipal", None, "市に移す", "相談支援機関または多機関協働事業者"),
        ("place_operator", None, "居場所に移す", "相談支援機関または多機関協働事業者"),
        ("window_a", None, "同じ機関", "相談支援機関または多機関協働事業者"),
        ("window_b", "coordinator", "別機関の職員を主担当者に", "新しい主担当機関の職員から"),
    ],
)
def test_a_bad_lead_change_gets_a_japanese_message_and_changes_nothing(
    personas, login, team_case, org, worker, reason, message
):
    post = _lead_post(team_case, getattr(personas, org), getattr(personas, worker) if worker else None, reason=reason)
    response = login(personas.caseworker_a).post(_url("case_change_lead", team_case), post)
    assert response.status_code == 200
    assert message in response.content.decode()
    case = Case.objects.get(pk=team_case.pk)
    assert case.lead_organization == personas.window_a and case.version == team_case.version
    assert not CaseLeadChange.objects.exists()
    assert login(personas.caseworker_b).get(team_case.get_absolute_url()).status_code == 404


@pytest.mark.django_db
def test_a_stale_lead_change_is_refused(personas, login, team_case):
    client = login(personas.caseworker_a)
    stale = _lead_post(team_case, personas.window_b)
    client.post(_url("case_edit", team_case), _case_post(team_case))
    response = client.post(_url("case_change_lead", team_case), stale, follow=True)
    assert "他の職員により更新されました" in response.content.decode()
    assert Case.objects.get(pk=team_case.pk).lead_organization == personas.window_a
    assert not CaseLeadChange.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_hand_over_and_a_detail_edit_at_once_exactly_one_wins(personas):
    case = make_case(lead_organization=personas.window_a, by=personas.caseworker_a)
    barrier = threading.Barrier(2)
    results = []

    def run(action):
        try:
            barrier.wait(timeout=10)
            action()
            results.append("ok")
        except CaseChanged:
            results.append("changed")
        except Exception as exc:  # pragma: no cover - reported below
            results.append(repr(exc))
        finally:
            connection.close()

    def hand_over():
        case_change_lead(
            case=case,
            organization=personas.window_b,
            lead_worker=None,
            reason="引き継ぎ",
            by=personas.caseworker_a,
            expected_version=case.version,
        )

    def edit():
        case_update(case=case, summary="同時の編集", by=personas.supervisor_a, expected_version=case.version)

    threads = [threading.Thread(target=run, args=(hand_over,)), threading.Thread(target=run, args=(edit,))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results) == ["changed", "ok"]
    assert Case.objects.get(pk=case.pk).version == 2


@pytest.mark.django_db
def test_the_hand_over_page_stays_within_a_fixed_number_of_queries(
    personas, login, team_case, django_assert_max_num_queries
):
    from tests.factories import MembershipFactory, OrganizationFactory

    client = login(personas.caseworker_a)
    url = _url("case_change_lead", team_case)
    client.get(url)
    with django_assert_max_num_queries(30) as few:
        client.get(url)
    for i in range(10):
        MembershipFactory(organization=OrganizationFactory(name=f"相談窓口追加{i}"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url)


# ---------------------------------------------------------------------------
# Plans: the next review date and editing a draft
# ---------------------------------------------------------------------------


@pytest.fixture
def approved_plan(personas, team_case):
    plan = plan_create(case=team_case, goals="安心して暮らす", by=personas.caseworker_a)
    return plan_approve(plan=plan, by=personas.caseworker_a, decided_by_label="重層的支援会議")


@pytest.mark.django_db
def test_a_team_member_sets_the_next_review_date_on_the_approved_plan(personas, login, team_case, approved_plan):
    url = reverse("casework:plan_detail", args=[team_case.pk, approved_plan.pk])
    client = login(personas.coordinator)
    assert 'value="next_review"' in client.get(url).content.decode()
    response = client.post(url, {"form": "next_review", "next_review_on": "令和9年10月1日"})
    assert response.status_code == 302
    approved_plan.refresh_from_db()
    assert approved_plan.next_review_on == date(2027, 10, 1)
    assert Case.objects.get(pk=team_case.pk).next_review_on == date(2027, 10, 1)
    assert "令和9年10月1日" in client.get(team_case.get_absolute_url()).content.decode()


@pytest.mark.django_db
def test_a_bad_next_review_date_changes_nothing(personas, login, team_case, approved_plan):
    url = reverse("casework:plan_detail", args=[team_case.pk, approved_plan.pk])
    client = login(personas.caseworker_a)
    response = client.post(url, {"form": "next_review", "next_review_on": "令和99年13月1日"})
    assert response.status_code == 200 and "存在しない日付です" in response.content.decode()
    response = client.post(url, {"form": "next_review", "next_review_on": "1999-01-01"})
    assert response.status_code == 200 and "受付日より後" in response.content.decode()
    approved_plan.refresh_from_db()
    assert approved_plan.next_review_on is None
    assert Case.objects.get(pk=team_case.pk).next_review_on is None


@pytest.mark.django_db
def test_a_draft_has_no_review_form_and_a_posted_one_is_refused(personas, login, team_case):
    draft = plan_create(case=team_case, goals="下書き", by=personas.caseworker_a)
    url = reverse("casework:plan_detail", args=[team_case.pk, draft.pk])
    client = login(personas.caseworker_a)
    assert 'value="next_review"' not in client.get(url).content.decode()
    response = client.post(url, {"form": "next_review", "next_review_on": "令和9年10月1日"}, follow=True)
    assert "承認済みプランにだけ" in response.content.decode()
    assert Case.objects.get(pk=team_case.pk).next_review_on is None


@pytest.mark.django_db
def test_a_draft_plan_is_edited_on_its_page(personas, login, team_case):
    draft = plan_create(case=team_case, goals="下書き", by=personas.caseworker_a)
    url = reverse("casework:plan_detail", args=[team_case.pk, draft.pk])
    response = login(personas.coordinator).post(
        url,
        {
            "form": "plan",
            "goals": "地域の居場所につながる",
            "period_start": "令和7年4月1日",
            "period_end": "令和8年3月31日",
            "includes_participation_support": "on",
        },
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.goals == "地域の居場所につながる" and draft.includes_participation_support is True
    assert (draft.period_start, draft.period_end) == (date(2025, 4, 1), date(2026, 3, 31))
    assert draft.status == SupportPlan.Status.DRAFT


@pytest.mark.django_db
def test_a_draft_plan_with_a_reversed_period_is_refused(personas, login, team_case):
    draft = plan_create(case=team_case, goals="下書き", by=personas.caseworker_a)
    url = reverse("casework:plan_detail", args=[team_case.pk, draft.pk])
    response = login(personas.caseworker_a).post(
        url, {"form": "plan", "goals": "変更", "period_start": "令和8年4月1日", "period_end": "令和7年4月1日"}
    )
    assert response.status_code == 200 and "終了日は開始日より後" in response.content.decode()
    draft.refresh_from_db()
    assert draft.goals == "下書き"
