"""Issue 15, rows 8, 9, 15 and 18: the access log cannot be shortened by the app, and every response
that shows personal data is logged first, with ids and bases only, never cached."""

from __future__ import annotations

import json
import uuid
from io import StringIO

import pytest
from django.core import checks
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from casework.audit import log_access, verify_day
from casework.audit.roles import APPEND_ONLY_TRIGGERS, apply_grants, role_problems
from casework.models import AccessLog
from core.spreadsheets import encode_csv
from tests.factories import PersonFactory, make_case, make_referral

pytestmark = pytest.mark.django_db


def write_rows(user, count: int) -> list[AccessLog]:
    return [
        log_access(actor=user, action=AccessLog.Action.VIEW, object_type="case", object_id=i, person_ids=[i])
        for i in range(count)
    ]


def e015(*, deploy: bool) -> list[str]:
    """Return the access-log role errors the system checks report (as `check [--deploy]` would)."""
    messages = checks.run_checks(include_deployment_checks=deploy, tags=[checks.Tags.security])
    return [m.msg for m in messages if m.id == "casework.E015"]


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


# ---------------------------------------------------------------------------
# Row 15: the application's database role cannot shorten the access log
# ---------------------------------------------------------------------------


class AppRole:
    """A non-owner, non-superuser role with the application's grants, created inside the test's transaction."""

    def __init__(self):
        self.name = f"jusou_test_app_{uuid.uuid4().hex[:10]}"
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE ROLE "{self.name}" NOLOGIN')
        apply_grants(self.name)

    def __enter__(self):
        with connection.cursor() as cursor:
            cursor.execute(f'SET ROLE "{self.name}"')
        return self

    def __exit__(self, *exc):
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


_EVERY_TRIGGER = [
    *APPEND_ONLY_TRIGGERS,
    # The names pgtrigger gave the old Protect triggers, in case any survived.
    "pgtrigger_accesslog_no_update_f3662",
    "pgtrigger_accesslog_no_delete_23a56",
    "pgtrigger_accesslog_no_truncate_280d9",
]
IGNORE_EVERY_TRIGGER = f"SET LOCAL pgtrigger.ignore = '{{{','.join(_EVERY_TRIGGER)}}}'"


def test_row_15_the_app_role_cannot_delete_the_tail_even_with_pgtrigger_ignore(personas):
    rows = write_rows(personas.caseworker_a, 4)
    attacks = [
        "DELETE FROM casework_accesslog WHERE id IN "
        "(SELECT id FROM casework_accesslog ORDER BY day DESC, seq DESC LIMIT 2)",
        "UPDATE casework_accesslog SET person_ids = '[]'",
        "TRUNCATE casework_accesslog CASCADE",
        "ALTER TABLE casework_accesslog DISABLE TRIGGER USER",
        f"ALTER TABLE casework_accesslog DISABLE TRIGGER {APPEND_ONLY_TRIGGERS[0]}",
        "SET LOCAL session_replication_role = replica",
    ]
    with AppRole():
        for attack in attacks:
            with pytest.raises(DatabaseError, match="permission denied|must be owner"), transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(IGNORE_EVERY_TRIGGER)
                    cursor.execute(attack)
        # What the role may do: read and append.
        assert AccessLog.objects.count() == 4
        write_rows(personas.caseworker_a, 1)
        assert role_problems() == []
    assert AccessLog.objects.count() == 5
    assert verify_day(rows[0].day) == (5, None)


def test_row_15_the_triggers_have_no_per_session_bypass(personas):
    """Even a role that was (wrongly) granted DELETE meets the trigger; pgtrigger.ignore changes nothing."""
    write_rows(personas.caseworker_a, 3)
    role = AppRole()
    with connection.cursor() as cursor:
        cursor.execute(f'GRANT UPDATE, DELETE ON casework_accesslog TO "{role.name}"')
    with role:
        for attack in ("DELETE FROM casework_accesslog", "UPDATE casework_accesslog SET reason = 'x'"):
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(IGNORE_EVERY_TRIGGER)
                    cursor.execute(attack)
    # The superuser connection of the tests, too, unless it switches the triggers off as the owner.
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(IGNORE_EVERY_TRIGGER)
            cursor.execute("DELETE FROM casework_accesslog")
    assert AccessLog.objects.count() == 3


def test_row_15_check_deploy_refuses_a_role_that_can_shorten_the_log(personas, settings):
    settings.DATABASE_APP_ROLE = ""
    role = AppRole()
    with role:
        assert e015(deploy=True) == []  # the bound role passes
    with connection.cursor() as cursor:
        cursor.execute(f'GRANT DELETE, TRUNCATE ON casework_accesslog TO "{role.name}"')
    with role:
        errors = e015(deploy=True)
    assert any("DELETE" in e for e in errors) and any("TRUNCATE" in e for e in errors)
    # The tests' own superuser owner is refused as well.
    errors = e015(deploy=True)
    assert any("スーパーユーザー" in e for e in errors) and any("所有者" in e for e in errors)


def test_row_15_with_database_app_role_set_every_command_checks_that_role(personas, settings):
    role = AppRole()
    settings.DATABASE_APP_ROLE = role.name
    with connection.cursor() as cursor:
        cursor.execute(f'GRANT UPDATE ON casework_accesslog TO "{role.name}"')
    with role:
        assert any("UPDATE" in e for e in e015(deploy=False))  # not only under --deploy
    # The owner (another role) running migrate or grant_app_role is not refused.
    assert e015(deploy=True) == []
    run("grant_app_role")
    with role:
        assert e015(deploy=True) == []  # the grants took UPDATE away again


def test_row_15_a_server_process_refuses_to_start_as_a_role_that_can_shorten_the_log(personas, settings, monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from casework.audit.roles import refuse_to_serve_if_unbound

    monkeypatch.setattr(connection, "close", lambda: None)  # keep the test's transaction open
    role = AppRole()
    settings.DATABASE_APP_ROLE = role.name
    with role:
        refuse_to_serve_if_unbound()  # bound: starts
    with connection.cursor() as cursor:
        cursor.execute(f'GRANT DELETE ON casework_accesslog TO "{role.name}"')
    with role, pytest.raises(ImproperlyConfigured, match="casework.E015.*DELETE"):
        refuse_to_serve_if_unbound()


def test_row_15_a_deleted_tail_is_named_by_verify_with_anchors(personas, tmp_path):
    rows = write_rows(personas.caseworker_a, 5)
    day = rows[0].day.isoformat()
    anchors = tmp_path / "anchors.jsonl"
    call_command("anchor_access_log", "--output", str(anchors), stdout=StringIO(), stderr=StringIO())
    call_command("anchor_access_log", "--output", str(anchors), stdout=StringIO(), stderr=StringIO())
    lines = [json.loads(line) for line in anchors.read_text().splitlines()]
    assert [(a["day"], a["seq"]) for a in lines] == [(day, 5)]  # idempotent: one line per head

    # The owner (or a superuser) deletes the last two rows: the chain alone still verifies.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE casework_accesslog DISABLE TRIGGER USER")
        cursor.execute("DELETE FROM casework_accesslog WHERE id IN (%s, %s)", [rows[3].id, rows[4].id])
    assert verify_day(rows[0].day) == (3, None)
    with pytest.raises(CommandError, match=f"{day} の連番 4..5 がありません"):
        run("verify_access_log", "--anchors", str(anchors))

    # The whole day removed: the anchors still say it had rows.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM casework_accesslog")
        cursor.execute("ALTER TABLE casework_accesslog ENABLE TRIGGER USER")
    with pytest.raises(CommandError, match=f"{day} はアンカーでは 5 行ありましたが、1行もありません"):
        run("verify_access_log", "--anchors", str(anchors))


# ---------------------------------------------------------------------------
# Row 8: error answers that render the card write their log row first
# ---------------------------------------------------------------------------


def card_rows(referral) -> list[AccessLog]:
    return list(
        AccessLog.objects.filter(
            object_type="referral", object_id=str(referral.pk), outcome=AccessLog.Outcome.ALLOWED
        ).order_by("id")
    )


@pytest.fixture
def participation(personas, case_a, place):
    return make_referral(
        kind="participation",
        case=case_a,
        by=personas.caseworker_a,
        sender=personas.window_a,
        place=place,
        card_accommodations="大人数が苦手",
    )


def test_row_8_a_400_or_409_answer_showing_the_card_is_logged(personas, participation, login):
    client = login(personas.place_staff)
    posts = [
        (reverse("referrals:move", args=[participation.pk, "hold"]), {"version": "abc", "reason": "x"}, 400),
        (
            reverse("referrals:move", args=[participation.pk, "hold"]),
            {"version": participation.version - 1 or 99, "reason": "確認中"},
            409,
        ),
        (reverse("referrals:note", args=[participation.pk]), {"text": ""}, 400),
        (reverse("referrals:stage", args=[participation.pk]), {}, 400),
    ]
    for url, data, _status in posts:
        before = len(card_rows(participation))
        # A refusal goes back to the referral page (core.refusals), which shows the card again.
        response = client.post(url, data)
        assert response.status_code == 302, (url, response.status_code)
        page = client.get(response["Location"])
        assert "大人数が苦手" in page.content.decode()  # the card is shown...
        rows = card_rows(participation)[before:]
        assert rows, f"{url} was refused and its page showed the card but wrote no log row"  # ...and logged
        assert all(r.actor == personas.place_staff and r.person_ids == [participation.person_id] for r in rows)


def test_row_8_the_access_helpers_have_no_log_switch():
    import inspect

    from casework import access as case_access_module
    from referrals import access as referral_access_module

    for helper in (
        case_access_module.get_case_for_user,
        case_access_module.get_case_record_for_user,
        case_access_module.get_case_for_lead_member,
        referral_access_module.get_referral_for_user,
    ):
        assert "log" not in inspect.signature(helper).parameters, helper.__name__


# ---------------------------------------------------------------------------
# Row 9: duplicate-person hints show only the viewer's case numbers, and are logged
# ---------------------------------------------------------------------------


def test_row_9_a_duplicate_hint_hides_another_organizations_case_number(personas, login):
    shared = PersonFactory(
        family_name="重複", given_name="花子", family_name_kana="チョウフク", given_name_kana="ハナコ"
    )
    own_case = make_case(lead_organization=personas.window_a, by=personas.caseworker_a, persons=[shared])
    other_case = make_case(lead_organization=personas.window_b, by=personas.caseworker_b, persons=[shared])
    target = make_case(lead_organization=personas.window_a, by=personas.caseworker_a)
    response = login(personas.caseworker_a).post(
        reverse("casework:member_add", args=[target.pk]),
        {
            "p1-family_name": "重複",
            "p1-given_name": "花子",
            "p1-family_name_kana": "チョウフク",
            "p1-given_name_kana": "ハナコ",
            "p1-birth_date": shared.birth_date.isoformat(),
            "p1-relationship": "parent",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200 and "すでに登録されています" in html
    assert own_case.number in html
    assert other_case.number not in html
    hint = AccessLog.objects.filter(object_type="person_duplicates", actor=personas.caseworker_a).last()
    assert hint is not None and shared.pk in hint.person_ids


# ---------------------------------------------------------------------------
# Row 18: ids past 64 bits, denied 404s, server request ids, no search text, no-store, cp932
# ---------------------------------------------------------------------------

BIG = "99999999999999999999999"


def test_row_18_ids_past_64_bits_answer_404_logged_as_denied(personas, case_a, login):
    client = login(personas.caseworker_a)
    for path in (
        f"/meetings/{BIG}/",
        f"/meetings/{BIG}/items/1/",
        f"/cases/{BIG}/",
        f"/cases/{case_a.pk}/assessments/{BIG}/",
        f"/referrals/{BIG}/",
        f"/places/{BIG}/",
    ):
        assert client.get(path).status_code == 404, path
        assert not AccessLog.objects.filter(path=path, outcome=AccessLog.Outcome.ALLOWED).exists(), path
    for path in (f"/meetings/{BIG}/", f"/cases/{BIG}/", f"/cases/{case_a.pk}/assessments/{BIG}/", f"/referrals/{BIG}/"):
        assert AccessLog.objects.filter(path=path, action="denied", outcome=AccessLog.Outcome.DENIED).exists(), path


def test_row_18_an_overflowing_id_never_reaches_a_foreign_key_lookup(personas, django_assert_num_queries):
    """SQLite (the embedded demo) raises OverflowError on such a lookup, which answered 500."""
    from casework.access import object_pk
    from meetings.access import participant_for

    assert object_pk(BIG) is None and object_pk(str(2**63)) is None and object_pk("１２") is None
    assert object_pk(str(2**63 - 1)) == 2**63 - 1
    with django_assert_num_queries(0):
        assert participant_for(personas.chair, BIG) is None


def test_row_18_the_request_id_is_the_servers_not_the_clients(personas, case_a, login):
    response = login(personas.caseworker_a).get(f"/cases/{case_a.pk}/", HTTP_X_REQUEST_ID="attacker-chosen-id")
    row = AccessLog.objects.filter(path=f"/cases/{case_a.pk}/").last()
    assert row.request_id != "attacker-chosen-id"
    assert str(uuid.UUID(row.request_id)) == row.request_id
    assert response["X-Request-Id"] == row.request_id


def test_row_18_the_case_search_logs_that_a_search_was_made_not_the_text(personas, case_a, login):
    login(personas.caseworker_a).get("/cases/?q=山田&state=intake")
    row = AccessLog.objects.filter(action=AccessLog.Action.SEARCH, object_type="case").last()
    assert "山田" not in row.reason and "山田" not in row.path
    assert "filter=q" in row.reason and "filter=state" in row.reason


def test_row_18_pages_and_exports_with_personal_data_are_never_stored(personas, case_a, participation, login):
    client = login(personas.caseworker_a)
    for path in (f"/cases/{case_a.pk}/", "/cases/", reverse("referrals:inbox_csv"), f"/referrals/{participation.pk}/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" in response["Cache-Control"], path
    place_export = login(personas.place_staff).get(reverse("places:export"))
    assert "no-store" in place_export.get("Cache-Control", ""), place_export.status_code


def test_row_18_a_minus_sign_is_neutralised_in_cp932_exports():
    data, _replaced = encode_csv(["名前"], [["\u22121+1"], ["=1"], ["\uff0d2"], ["普通"]], encoding="cp932")
    lines = data.decode("cp932").split("\r\n")
    assert lines[1].startswith("'") and lines[2].startswith("'") and lines[3].startswith("'")
    assert lines[4] == "普通"
    # UTF-8 exports neutralise U+2212 as well (Excel may read it as a minus sign).
    assert encode_csv(["x"], [["\u22121"]])[0].decode("utf-8-sig").split("\r\n")[1].startswith("'")
