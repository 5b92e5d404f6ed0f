"""The auditor's log screens: who reaches them, their own log rows, filters, pages, person history."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from casework.audit import AccessLogUnavailable, log_access
from casework.audit import access as audit_access
from casework.audit.selectors import audit_home_panels
from casework.models import AccessLog
from casework.viewers import Viewer

AUDIT_URLS = [
    reverse("audit:log"),
    reverse("audit:log") + "?person=1",
    reverse("audit:export") + "?format=csv",
    reverse("audit:person_history") + "?person=1",
    reverse("audit:report", args=["break-glass"]),
    reverse("audit:report", args=["unused-accounts"]),
    reverse("audit:chain"),
]
NOT_AUDITORS = [
    "caseworker_a",
    "caseworker_b",
    "supervisor_a",
    "coordinator",
    "place_staff",
    "chair",
    "administrator",
]


def view(user, *, persons=(), basis=AccessLog.Basis.OWN_ORGANIZATION, **fields) -> AccessLog:
    fields.setdefault("action", AccessLog.Action.VIEW)
    fields.setdefault("object_type", "case")
    return log_access(actor=user, person_ids=persons, basis=basis, **fields)


def own_rows(user):
    return AccessLog.objects.filter(actor=user).order_by("seq")


@pytest.mark.django_db
@pytest.mark.parametrize("name", NOT_AUDITORS)
def test_every_other_persona_gets_404_and_the_attempt_is_logged_as_denied(personas, login, name):
    user = getattr(personas, name)
    client = login(user)
    for url in AUDIT_URLS:
        assert client.get(url).status_code == 404, url
    denied = own_rows(user).filter(outcome=AccessLog.Outcome.DENIED, object_type="accesslog")
    assert denied.count() == len(AUDIT_URLS)


@pytest.mark.django_db
@pytest.mark.parametrize("name", [None, "deactivated"])
def test_anonymous_and_deactivated_users_are_sent_to_the_login_page(personas, login, name):
    client = login(getattr(personas, name) if name else None)
    for url in AUDIT_URLS:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_the_auditor_reaches_every_screen(personas, login):
    client = login(personas.auditor)
    for url in AUDIT_URLS:
        assert client.get(url).status_code == 200, url


@pytest.mark.django_db
def test_viewing_the_log_writes_its_own_row_with_the_persons_shown(personas, login):
    view(personas.caseworker_a, persons=[11, 12], object_id=1)
    view(personas.caseworker_b, persons=[13], object_id=2)
    response = login(personas.auditor).get(reverse("audit:log"))
    assert response.status_code == 200
    [row] = own_rows(personas.auditor)
    assert (row.action, row.basis, row.role, row.organization_id) == (
        AccessLog.Action.LIST,
        AccessLog.Basis.AUDIT,
        "auditor",
        personas.municipal.id,
    )
    assert row.person_ids == [11, 12, 13]
    assert row.object_type == "accesslog"


@pytest.mark.django_db
def test_a_search_is_logged_as_search_with_its_filters(personas, login):
    view(personas.caseworker_a, persons=[11])
    login(personas.auditor).get(reverse("audit:log"), {"actor": "cw_a", "person": 11})
    [row] = own_rows(personas.auditor)
    assert row.action == AccessLog.Action.SEARCH
    assert "actor=cw_a" in row.reason and "person=11" in row.reason
    assert row.person_ids == [11]


@pytest.mark.django_db
def test_the_page_is_refused_with_503_when_its_log_row_cannot_be_written(personas, login, monkeypatch):
    def broken(**kwargs):
        raise AccessLogUnavailable("database is read-only")

    view(personas.caseworker_a, persons=[11])
    monkeypatch.setattr(audit_access, "log_access", broken)
    client = login(personas.auditor)
    for url in AUDIT_URLS:
        response = client.get(url)
        assert response.status_code == 503, url
        assert "アクセス記録を書き込めないため" in response.content.decode()
        assert "cw_a" not in response.content.decode()


def shown_ids(response) -> set[int]:
    """Ids of the casework rows shown (the auditor's own earlier searches are left out)."""
    return {row.id for row in response.context["page"].rows if row.object_type != "accesslog"}


@pytest.mark.django_db
def test_filters_by_actor_person_action_and_organization(personas, login):
    a1 = view(personas.caseworker_a, persons=[1, 2])
    a2 = view(personas.caseworker_a, persons=[3], action=AccessLog.Action.LIST)
    b1 = view(personas.caseworker_b, persons=[2])
    client = login(personas.auditor)
    assert shown_ids(client.get(reverse("audit:log"), {"actor": "cw_a"})) == {a1.id, a2.id}
    assert shown_ids(client.get(reverse("audit:log"), {"person": 2})) == {a1.id, b1.id}
    assert shown_ids(client.get(reverse("audit:log"), {"action": "list"})) == {a2.id}
    assert shown_ids(client.get(reverse("audit:log"), {"organization": personas.window_b.id})) == {b1.id}
    assert shown_ids(client.get(reverse("audit:log"), {"object_type": "case", "person": 3})) == {a2.id}


@pytest.mark.django_db
def test_filters_by_object_outcome_and_basis(personas, login):
    case7 = view(personas.caseworker_a, object_id=7, persons=[1])
    view(personas.caseworker_a, object_id=8, persons=[1])
    denied = view(personas.caseworker_b, object_id=7, outcome=AccessLog.Outcome.DENIED, basis=AccessLog.Basis.NONE)
    consent = view(personas.coordinator, object_id=9, basis=AccessLog.Basis.CONSENT, basis_ref="consent:5")
    client = login(personas.auditor)
    assert shown_ids(client.get(reverse("audit:log"), {"object_type": "case", "object_id": "7"})) == {
        case7.id,
        denied.id,
    }
    assert shown_ids(client.get(reverse("audit:log"), {"outcome": "denied"})) == {denied.id}
    assert shown_ids(client.get(reverse("audit:log"), {"basis": "consent"})) == {consent.id}


@pytest.mark.django_db
def test_date_range_accepts_wareki_and_seireki(personas, login):
    today = timezone.localdate()
    row = view(personas.caseworker_a, persons=[1])
    client = login(personas.auditor)
    wareki = f"令和{today.year - 2018}年{today.month}月{today.day}日"
    assert shown_ids(client.get(reverse("audit:log"), {"date_from": wareki, "date_to": wareki})) == {row.id}
    yesterday = today - timedelta(days=1)
    assert shown_ids(client.get(reverse("audit:log"), {"date_to": yesterday.isoformat()})) == set()
    assert shown_ids(client.get(reverse("audit:log"), {"date_from": today.strftime("%Y/%m/%d")})) == {row.id}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"date_from": "2025-02-30"}, "日付"),
        ({"date_from": "令和99年13月1日"}, "日付"),
        ({"date_from": "2025-04-02", "date_to": "2025-04-01"}, "開始が終了より後"),
        ({"person": "abc"}, "整数を入力してください"),
        ({"person": "-1"}, "1 以上"),
        ({"person": "99999999999999999999999"}, "以下"),
        ({"organization": "999999"}, "正しく選択してください"),
        ({"action": "drop table"}, "正しく選択してください"),
        ({"object_id": "5"}, "対象種別も指定"),
        ({"after": "not-a-cursor"}, "ページの指定が正しくありません"),
        ({"actor": "a\x00b"}, "NUL文字"),
    ],
)
def test_malformed_filters_give_a_japanese_form_error_and_no_500(personas, login, params, message):
    response = login(personas.auditor).get(reverse("audit:log"), params)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not own_rows(personas.auditor).exists()


@pytest.mark.django_db
def test_pages_follow_a_keyset_cursor_without_counting(personas, login, django_assert_max_num_queries):
    rows = [view(personas.caseworker_a, persons=[i], object_id=i) for i in range(103)]
    client = login(personas.auditor)
    with django_assert_max_num_queries(16):
        first = client.get(reverse("audit:log"), {"actor": "cw_a"})
    assert [r.id for r in first.context["page"].rows] == [r.id for r in reversed(rows[3:])]
    second = client.get(reverse("audit:log") + "?" + first.context["next_query"])
    assert [r.id for r in second.context["page"].rows] == [r.id for r in reversed(rows[:3])]
    assert second.context["next_query"] is None


@pytest.mark.django_db
def test_person_history_groups_accesses_per_actor(personas, login):
    view(personas.caseworker_a, persons=[42, 1])
    view(personas.caseworker_a, persons=[42])
    view(personas.caseworker_b, persons=[42], outcome=AccessLog.Outcome.DENIED, basis=AccessLog.Basis.NONE)
    view(personas.coordinator, persons=[43])
    response = login(personas.auditor).get(reverse("audit:person_history"), {"person": 42})
    assert response.status_code == 200
    actors = {a.actor_username: a for a in response.context["actors"]}
    assert set(actors) == {"cw_a", "cw_b"}
    assert (actors["cw_a"].count, actors["cw_a"].denied, actors["cw_a"].organization) == (
        2,
        0,
        "地域包括支援センター東",
    )
    assert (actors["cw_b"].count, actors["cw_b"].denied) == (1, 1)
    assert actors["cw_a"].first_at <= actors["cw_a"].last_at
    assert len(response.context["latest"].rows) == 3
    [row] = own_rows(personas.auditor)
    assert (row.action, row.person_ids) == (AccessLog.Action.SEARCH, [42])


@pytest.mark.django_db
def test_person_history_rejects_a_malformed_id(personas, login):
    response = login(personas.auditor).get(reverse("audit:person_history"), {"person": "４２x"})
    assert response.status_code == 400
    assert "整数を入力してください" in response.content.decode()


@pytest.mark.django_db
def test_the_auditor_home_panel_and_navigation(personas, login, rf):
    view(personas.caseworker_a, persons=[1], basis=AccessLog.Basis.BREAK_GLASS, reason="夜間の緊急連絡のため")
    [panel] = audit_home_panels(rf.get("/"), Viewer(personas.auditor))
    assert panel.context["figures"]["break_glass"] == 1
    assert audit_home_panels(rf.get("/"), Viewer(personas.caseworker_a)) == []
    assert 'href="/audit/"' in login(personas.auditor).get("/").content.decode()
    assert 'href="/audit/"' not in login(personas.caseworker_a).get("/").content.decode()


@pytest.mark.django_db
def test_a_row_naming_many_persons_links_twenty_and_counts_the_rest(personas, login):
    view(personas.caseworker_a, persons=range(1, 1001), action=AccessLog.Action.LIST)
    html = login(personas.auditor).get(reverse("audit:log")).content.decode()
    assert html.count(reverse("audit:person_history") + "?person=") == 20
    assert "ほか980名" in html
