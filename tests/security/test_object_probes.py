"""Object probes: another organization's ids answer 404 like a missing id; searches, duplicate checks,
exports and dashboards never show a record outside the viewer's reach; extra POSTed fields are ignored."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date

import pytest
from django.urls import reverse

from casework.models import Case, ContactRecord, SupportPlan
from meetings.models import Meeting
from places.models import Place
from referrals.models import Referral
from tests.security.policy import (
    ADMIN,
    AUDITOR,
    CHAIR_OTHER,
    CHAIR_OWN,
    COORD_OTHER,
    COORD_OWN,
    CW_OTHER,
    CW_OWN,
    NOT_ALLOWED,
    OK,
    PLACE_ACTIVE,
    PLACE_OTHER,
    POLICY,
    SIGNED_IN,
    SV_OTHER,
    SV_OWN,
)
from tests.security.support import ROUTES, RowWatch, fingerprint_tables, record_count, url_for
from tests.security.world import LEAK_BIRTH_DATE, LEAK_FAMILY_NAME, LEAK_KANA, OWN_NAME

pytestmark = pytest.mark.django_db

OUTSIDERS = (CW_OTHER, SV_OTHER, COORD_OTHER, CHAIR_OTHER, PLACE_OTHER)
# The directory of places is shared with every directory user by design (public fields only).
SHARED_BY_DESIGN = {"places:detail"}
# Path arguments that name a screen or a figure, not a record.
NOT_RECORD_ARGS = {"audit:report", "indicators:drill", "referrals:new"}
# The open API answers every session 401 before any lookup, the same for every id; which organization's
# records a token reaches is tests/referrals/test_open_api.py's business.
TOKEN_ONLY = {"hsds:service", "hsds:organization", "fhir:task_read"}
POST_ONLY = {name for name, rule in POLICY.items() if any(rule.get[s] == NOT_ALLOWED for s in SIGNED_IN)}
LEAK_MARKERS = (LEAK_FAMILY_NAME, LEAK_KANA[0])


def record_urls() -> list[str]:
    excluded = NOT_RECORD_ARGS | SHARED_BY_DESIGN | TOKEN_ONLY
    return sorted(n for n, route in ROUTES.items() if "<" in route and n not in excluded)


def ask(client, name: str, url: str):
    """GET a screen, POST to a POST-only action."""
    return client.post(url) if name in POST_ONLY else client.get(url)


def texts(response) -> str:
    """Return everything a response body says, unpacking XLSX and reading cp932 CSV."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if body.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(body)) as book:
            return "".join(book.read(n).decode("utf-8", "ignore") for n in book.namelist() if n.endswith(".xml"))
    return body.decode("utf-8", "ignore") + body.decode("cp932", "ignore")


def shows_own_name(response) -> bool:
    """Whether the page names A's person (screens put a space of some width between the names)."""
    return OWN_NAME in re.sub(r"\s", "", texts(response))


def test_another_organizations_ids_answer_404_like_a_missing_id(world, request):
    """GET (where offered) and POST with B's ids: 404, never 403 or 200, and no stored row changes."""
    failures, checked = [], 0
    watch = RowWatch(fingerprint_tables())
    for name in record_urls():
        rule = POLICY[name]
        for subject in OUTSIDERS:
            url = url_for(world, name, rule, "other")
            client = world.clients[subject]
            if name not in POST_ONLY:
                response = client.get(url)
                checked += 1
                if response.status_code != 404:
                    failures.append(f"GET {name} {url} as {subject}: {response.status_code} (reveals the record)")
            response = client.post(url, {"action": "add", "form": "add", "text": "x", "version": 1})
            checked += 1
            # 405 comes from the method check before any lookup, the same for every id.
            if response.status_code not in (404, 405):
                failures.append(f"POST {name} {url} as {subject}: {response.status_code} (reveals the record)")
        changed = watch.changed()
        if changed:
            failures.append(f"{name}: a refused request changed stored rows in {', '.join(changed)}")
    record_count(request.config, "object probes (another organization's ids)", checked)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("casework:consent_withdraw", lambda w: {"pk": w.own.case.pk, "consent_pk": w.other.consent.pk}),
        ("casework:consent_form", lambda w: {"pk": w.own.case.pk, "consent_pk": w.other.consent.pk}),
        ("casework:assessment_detail", lambda w: {"pk": w.own.case.pk, "assessment_pk": w.other.assessment.pk}),
        ("casework:plan_detail", lambda w: {"pk": w.own.case.pk, "plan_pk": w.other.plan.pk}),
        ("meetings:item", lambda w: {"pk": w.own.meeting.pk, "item_pk": w.other.item.pk}),
        ("meetings:notes", lambda w: {"pk": w.own.meeting.pk, "item_pk": w.other.item.pk}),
        ("meetings:decide", lambda w: {"pk": w.own.meeting.pk, "item_pk": w.other.item.pk}),
    ],
)
def test_another_organizations_record_under_ones_own_parent_answers_404(world, name, kwargs):
    """Pairing one's own case or meeting with another's record id finds nothing."""
    url = reverse(name, kwargs=kwargs(world))
    for subject in (CW_OWN, CHAIR_OWN):
        assert ask(world.clients[subject], name, url).status_code == 404, (name, subject)


def _page(response, pk) -> str:
    """The page without what differs on every request (the CSRF token) or names the id asked for."""
    # Only the id as a whole number: a small id such as 2 must not be cut out of "/2fa/".
    html = re.sub(rf"(?<![\w]){pk}(?![\w])", "", response.content.decode())
    return re.sub(r'"X-CSRFToken": "[^"]+"|value="[A-Za-z0-9]{64}"', "", html)


def test_a_missing_id_and_another_organizations_id_get_the_same_answer(world):
    missing = 10**9
    client = world.clients[CW_OWN]
    for name, other_id in [
        ("casework:case_detail", world.other.case.pk),
        ("referrals:detail", world.other.referral.pk),
        ("meetings:detail", world.other.meeting.pk),
    ]:
        theirs = client.get(reverse(name, kwargs={"pk": other_id}))
        nothing = client.get(reverse(name, kwargs={"pk": missing}))
        assert theirs.status_code == nothing.status_code == 404
        assert _page(theirs, other_id) == _page(nothing, missing)


# ---------------------------------------------------------------------------
# Nothing of B's side shows up anywhere A's side and the others look
# ---------------------------------------------------------------------------

SEARCHES = {
    "casework:case_list": [{"q": LEAK_FAMILY_NAME}, {"q": LEAK_KANA[0]}, {"q": "ﾛｳｴｲ"}],
    "casework:case_mine": [{"q": LEAK_FAMILY_NAME}],
    "places:list": [{"q": "ひだまり"}],
    "places:export": [
        {"file_format": "csv", "encoding": "utf-8-sig"},
        {"file_format": "xlsx", "encoding": "utf-8-sig"},
    ],
    "indicators:dashboard": [{"org": "{window_b}"}],
    "indicators:drill": [{"org": "{window_b}"}, {}],
    "indicators:export": [{"format": "csv"}, {"format": "xlsx"}],
    "audit:log": [{}],
    "audit:export": [{"format": "csv"}, {"format": "xlsx"}],
}
LOOKERS = (CW_OWN, SV_OWN, COORD_OWN, CHAIR_OWN, PLACE_ACTIVE, AUDITOR, ADMIN)


def test_no_screen_search_or_export_shows_another_organizations_person(world, request):
    failures, checked = [], 0
    for name in sorted(POLICY):
        if name in POST_ONLY or name == "logout":
            continue
        rule = POLICY[name]
        for subject in LOOKERS:
            if rule.get[subject] != OK:
                continue  # refusals are the matrix's business; here, what an opened page shows
            base = url_for(world, name, rule, subject.side)
            for params in [{}, *SEARCHES.get(name, [])]:
                query = "&".join(f"{k}={v}".format(window_b=world.personas.window_b.pk) for k, v in params.items())
                url = base + ("&" if "?" in base else "?") + query if query else base
                response = world.clients[subject].get(url)
                checked += 1
                seen = texts(response)
                for echoed in params.values():  # the search box shows what was typed
                    seen = seen.replace(echoed, "")
                for marker in LEAK_MARKERS:
                    if marker in seen:
                        failures.append(f"{url} as {subject} shows {marker}")
    record_count(request.config, "object probes (screens, searches and exports)", checked)
    assert not failures, "\n".join(failures)


def test_the_search_finds_ones_own_person_so_the_probe_would_see_a_leak(world):
    response = world.clients[CW_OWN].get(reverse("casework:case_list"), {"q": "自組織"})
    assert shows_own_name(response)


def _intake(world, *, kana, birth_date):
    return {
        "household_name": "重複確認世帯",
        "domains": ["elderly"],
        "main_category": "care",
        "categories": ["care"],
        "intake_route": "self",
        "opened_on": "2025-06-01",
        "summary": "重複の確認",
        "lead_organization": world.personas.window_a.pk,
        "p1-family_name": "別人",
        "p1-given_name": "確認",
        "p1-family_name_kana": kana[0],
        "p1-given_name_kana": kana[1],
        "p1-birth_date": birth_date.isoformat(),
        "p1-gender": "female",
        "p1-relationship": "self",
        "p1-is_subject": "on",
        # The empty second member as a browser sends it (its checkboxes start ticked).
        "p2-lives_together": "on",
        "p2-is_subject": "on",
    }


def test_the_duplicate_check_never_offers_another_organizations_person(world):
    client = world.clients[CW_OWN]
    before = Case.objects.count()
    theirs = client.post(reverse("casework:case_intake"), _intake(world, kana=LEAK_KANA, birth_date=LEAK_BIRTH_DATE))
    assert LEAK_FAMILY_NAME not in texts(theirs)
    assert Case.objects.count() == before + 1  # nothing matched within reach, so the intake went through
    own = world.own.person
    ours = client.post(
        reverse("casework:case_intake"),
        _intake(world, kana=(own.family_name_kana, own.given_name_kana), birth_date=own.birth_date),
    )
    assert ours.status_code == 200 and shows_own_name(ours)  # the check does offer one's own person
    member = client.post(
        reverse("casework:member_add", kwargs={"pk": world.own.case.pk}),
        {
            "p1-family_name": "別人",
            "p1-given_name": "確認",
            "p1-family_name_kana": LEAK_KANA[0],
            "p1-given_name_kana": LEAK_KANA[1],
            "p1-birth_date": LEAK_BIRTH_DATE.isoformat(),
            "p1-relationship": "child",
        },
    )
    assert LEAK_FAMILY_NAME not in texts(member)


# ---------------------------------------------------------------------------
# Mass assignment: fields a form does not offer are ignored, choices outside one's reach refused
# ---------------------------------------------------------------------------


def test_extra_fields_on_the_intake_are_ignored(world):
    data = _intake(world, kana=("ベツジン", "カクニン"), birth_date=LEAK_BIRTH_DATE.replace(year=1990))
    hostile = {"state": "closed", "number": "X-1", "version": "99", "created_by": world.caseworker_b.pk}
    response = world.clients[CW_OWN].post(reverse("casework:case_intake"), {**data, **hostile})
    assert response.status_code == 302
    case = Case.objects.latest("id")
    assert (case.state, case.lead_organization_id) == ("intake", world.personas.window_a.pk)
    assert case.number != "X-1" and case.version != 99


def test_a_lead_organization_outside_ones_own_is_refused_at_intake(world):
    data = _intake(world, kana=("ベツジン", "カクニン"), birth_date=LEAK_BIRTH_DATE.replace(year=1991))
    before = Case.objects.count()
    response = world.clients[CW_OWN].post(
        reverse("casework:case_intake"), {**data, "lead_organization": world.personas.window_b.pk}
    )
    assert response.status_code == 200
    assert Case.objects.count() == before


def test_extra_fields_on_a_new_plan_are_ignored(world):
    case = world.own.case
    response = world.clients[CW_OWN].post(
        reverse("casework:plan_create", kwargs={"pk": case.pk}),
        {
            "goals": "目標",
            "status": "approved",
            "version": "99",
            "case": world.other.case.pk,
            "approved_at": "2025-01-01",
        },
    )
    assert response.status_code == 302
    plan = SupportPlan.objects.latest("id")
    assert (plan.case_id, plan.status) == (case.pk, SupportPlan.Status.DRAFT)
    assert plan.version != 99


def test_extra_fields_on_a_contact_record_are_ignored(world):
    case = world.own.case
    response = world.clients[CW_OWN].post(
        reverse("casework:contact_create", kwargs={"pk": case.pk}),
        {
            "occurred_on": "2025-06-01",
            "occurred_time": "10:00",
            "kind": "phone",
            "summary": "電話で様子を確認",
            "organization": world.personas.window_b.pk,
            "case": world.other.case.pk,
            "recorded_by": world.caseworker_b.pk,
        },
    )
    assert response.status_code == 302
    record = ContactRecord.objects.latest("id")
    assert (record.case_id, record.organization_id) == (case.pk, world.personas.window_a.pk)
    assert record.recorded_by_id == world.personas.caseworker_a.pk


def test_extra_fields_on_a_new_referral_are_ignored(world):
    case = world.own.case
    response = world.clients[CW_OWN].post(
        reverse("referrals:new", kwargs={"kind": "inter_agency"}) + f"?case={case.pk}",
        {
            "receiver_organization": world.personas.coordinator_org.pk,
            "person": world.own.person.pk,
            "request_text": "協働をお願いします",
            "card_preferred_name": "はなこさん",
            "state": "accepted",
            "version": "99",
            "sender_organization": world.personas.window_b.pk,
            "sender_user": world.caseworker_b.pk,
            "legal_basis": "support_meeting",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    referral = Referral.objects.latest("id")
    assert (referral.state, referral.sender_organization_id) == ("draft", world.personas.window_a.pk)
    assert referral.sender_user_id == world.personas.caseworker_a.pk and referral.version != 99


def test_extra_fields_on_a_new_meeting_are_ignored(world):
    response = world.clients[CHAIR_OWN].post(
        reverse("meetings:create"),
        {
            "kind": "layered_meeting",
            "title": "第2回 ケース会議",
            "starts_at": "2030-06-01T10:00",
            "convened_by": world.personas.municipal.pk,
            "status": "minutes_locked",
            "chair": world.chair_b.pk,
            "version": "99",
        },
    )
    assert response.status_code == 302
    meeting = Meeting.objects.latest("id")
    assert (meeting.status, meeting.chair_id) == ("scheduled", world.personas.chair.pk)


def test_another_operator_is_refused_when_editing_a_place(world):
    place = world.own.place
    response = world.clients[PLACE_ACTIVE].post(
        reverse("places:edit", kwargs={"pk": place.pk}),
        {"operator": world.place_operator_b.pk, "name": "乗っ取り", "kind": place.kind},
    )
    assert response.status_code == 200
    place.refresh_from_db()
    assert (place.operator_id, place.name) == (world.personas.place_operator.pk, "みんなの子ども食堂")
    assert not Place.objects.filter(name="乗っ取り").exists()


def test_extra_fields_on_a_consent_withdrawal_leave_its_scope_alone(world):
    consent = world.own.consent
    scope = (consent.scope_kind, sorted(consent.organizations.values_list("pk", flat=True)), consent.purposes)
    response = world.clients[CW_OWN].post(
        reverse("casework:consent_withdraw", kwargs={"pk": world.own.case.pk, "consent_pk": consent.pk}),
        {
            "withdrawn_on": date.today().isoformat(),
            "note": "本人の申し出",
            "status": "given",
            "scope_kind": "case_team",
            "organizations": [world.personas.window_b.pk],
            "purposes": ["layered_meeting", "share_with_agencies"],
            "valid_until": "2099-12-31",
            "person": world.other.person.pk,
        },
    )
    assert response.status_code == 302
    consent.refresh_from_db()
    assert consent.status == "withdrawn" and consent.person_id == world.own.person.pk
    assert (consent.scope_kind, sorted(consent.organizations.values_list("pk", flat=True)), consent.purposes) == scope
    assert consent.valid_until is None


def test_extra_fields_on_a_referral_edit_are_ignored(world):
    draft = world.own.draft_referral
    response = world.clients[CW_OWN].post(
        reverse("referrals:edit", kwargs={"pk": draft.pk}),
        {
            "request_text": "書き直した依頼",
            "card_preferred_name": "はなこさん",
            "place": world.own.place.pk,
            "state": "accepted",
            "version": "99",
            "sender_organization": world.personas.window_b.pk,
            "receiver_organization": world.place_operator_b.pk,
            "case": world.other.case.pk,
        },
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.request_text == "書き直した依頼"
    assert (draft.state, draft.sender_organization_id) == ("draft", world.personas.window_a.pk)
    assert (draft.receiver_organization_id, draft.case_id) == (world.personas.place_operator.pk, world.own.case.pk)
    assert draft.version != 99


def test_a_new_place_cannot_overwrite_another_operators_place_by_id(world):
    theirs = world.other.place
    response = world.clients[PLACE_ACTIVE].post(
        reverse("places:create"),
        {
            "operator": world.personas.place_operator.pk,
            "name": "新しい居場所",
            "kind": "community_cafe",
            "id": theirs.pk,
            "pk": theirs.pk,
            "search_text": "改ざん",
            "created_at": "2000-01-01T00:00",
        },
    )
    assert response.status_code == 302
    created = Place.objects.get(name="新しい居場所")
    assert created.pk != theirs.pk and created.operator_id == world.personas.place_operator.pk
    assert "改ざん" not in created.search_text
    theirs.refresh_from_db()
    assert (theirs.name, theirs.operator_id) == ("ひだまりサロン", world.place_operator_b.pk)


def test_a_place_loses_the_closed_referrals_card_from_its_inbox_and_export(world):
    for name in ("referrals:inbox", "referrals:inbox_csv"):
        seen = texts(world.clients[PLACE_ACTIVE].get(reverse(name)))
        assert "たろうさん" in seen, name  # the active referral's card is there
        assert "はなこさん" not in seen, name  # the ended one's card time ran out
