"""Referral screens: who gets them, what place staff can never see, stale moves and the access log."""

import datetime

import pytest
from django.urls import reverse

from casework.models import AccessLog
from casework.services.persons import household_update
from casework.services.plans import assessment_record, contact_record_create
from referrals import services
from referrals.models import ReferralState
from tests.factories import make_consent, make_referral
from tests.fake_decisions import record_decision
from tests.refusals import refused_page


@pytest.fixture
def participation(personas, case_a, place):
    return make_referral(
        kind="participation",
        case=case_a,
        by=personas.caseworker_a,
        sender=personas.window_a,
        place=place,
        card_wishes="料理をしたい",
        card_accommodations="大人数が苦手",
    )


@pytest.mark.parametrize("who", ["caseworker_a", "supervisor_a", "place_staff"])
def test_sender_and_receiver_see_the_referral(personas, participation, login, who):
    response = login(getattr(personas, who)).get(reverse("referrals:detail", args=[participation.pk]))
    assert response.status_code == 200
    assert "大人数が苦手" in response.content.decode()
    row = AccessLog.objects.filter(object_type="referral", object_id=str(participation.pk), action="view").last()
    assert row.actor == getattr(personas, who) and row.person_ids == [participation.person_id]


@pytest.mark.parametrize("who", ["caseworker_b", "coordinator", "chair", "auditor", "administrator"])
def test_outsiders_get_404_and_a_denied_row(personas, participation, login, who):
    response = login(getattr(personas, who)).get(reverse("referrals:detail", args=[participation.pk]))
    assert response.status_code == 404
    if who not in {"auditor", "administrator", "chair"}:
        assert AccessLog.objects.filter(
            action="denied", object_type="referral", object_id=str(participation.pk)
        ).exists()


def test_anonymous_is_sent_to_login(participation, login):
    response = login(None).get(reverse("referrals:detail", args=[participation.pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_draft_is_invisible_to_the_receiver(personas, case_a, place, login):
    draft = make_referral(
        kind="participation", case=case_a, by=personas.caseworker_a, sender=personas.window_a, place=place, send=False
    )
    assert login(personas.place_staff).get(reverse("referrals:detail", args=[draft.pk])).status_code == 404


def test_a_place_loses_the_card_after_its_time(personas, participation, login):
    services.referral_move(move="cancel", referral=participation, by=personas.caseworker_a, reason="本人の希望で中止")
    client = login(personas.place_staff)
    assert client.get(reverse("referrals:detail", args=[participation.pk])).status_code == 200
    participation.refresh_from_db()
    type(participation).objects.filter(pk=participation.pk).update(
        place_access_until=participation.ended_at - datetime.timedelta(seconds=1)
    )
    assert client.get(reverse("referrals:detail", args=[participation.pk])).status_code == 404
    assert f"#{participation.pk}" not in client.get(reverse("referrals:inbox")).content.decode()


def test_inbox_and_outbox_count_by_state_and_overdue(personas, participation, login):
    type(participation).objects.filter(pk=participation.pk).update(
        due_on=datetime.date.today() - datetime.timedelta(days=2)
    )
    inbox = login(personas.place_staff).get(reverse("referrals:inbox"))
    assert inbox.status_code == 200
    assert "期限切れ" in inbox.content.decode()
    outbox = login(personas.caseworker_a).get(reverse("referrals:outbox"))
    assert f"#{participation.pk}" in outbox.content.decode()
    assert AccessLog.objects.filter(object_type="referral_inbox", action="list", actor=personas.place_staff).exists()


def test_only_the_viewers_moves_are_offered(personas, participation, login):
    place_page = login(personas.place_staff).get(reverse("referrals:detail", args=[participation.pk])).content.decode()
    assert "受諾する" in place_page and "取り下げる" not in place_page
    worker_page = (
        login(personas.caseworker_a).get(reverse("referrals:detail", args=[participation.pk])).content.decode()
    )
    assert "取り下げる" in worker_page and "受諾する" not in worker_page


def test_a_move_from_the_wrong_side_changes_nothing(personas, participation, login):
    client = login(personas.caseworker_a)
    response = client.post(
        reverse("referrals:move", args=[participation.pk, "accept"]), {"version": participation.version}
    )
    refused_page(client, response, reverse("referrals:detail", args=[participation.pk]))
    participation.refresh_from_db()
    assert participation.state == ReferralState.REQUESTED


def test_a_stale_page_gets_409_not_500(personas, participation, login):
    client = login(personas.place_staff)
    url = reverse("referrals:move", args=[participation.pk, "accept"])
    assert client.post(url, {"version": participation.version}).status_code == 302
    response = client.post(
        reverse("referrals:move", args=[participation.pk, "reject"]), {"version": participation.version, "reason": "x"}
    )
    html = refused_page(client, response, reverse("referrals:detail", args=[participation.pk]))
    assert html.count("他の職員により更新されました") == 1


def test_bad_characters_get_a_message(personas, participation, login):
    client = login(personas.place_staff)
    response = client.post(
        reverse("referrals:move", args=[participation.pk, "reject"]),
        {"version": participation.version, "reason": "理由\x00"},
    )
    html = refused_page(client, response, reverse("referrals:detail", args=[participation.pk]))
    assert html.count("使用できない文字") == 1


def test_send_form_blocks_without_consent_and_explains(personas, case_a, login, monkeypatch):
    draft = make_referral(
        case=case_a, by=personas.caseworker_a, sender=personas.window_a, receiver=personas.window_b, send=False
    )
    client = login(personas.caseworker_a)
    response = client.post(reverse("referrals:send", args=[draft.pk]), {"version": draft.version})
    html = refused_page(client, response, reverse("referrals:detail", args=[draft.pk]))
    assert html.count("同意の記録がありません") == 1
    decision = record_decision(monkeypatch, case_a, personas.window_b)
    page = client.get(reverse("referrals:detail", args=[draft.pk])).content.decode()
    assert f'<option value="{decision.ref}">' in page
    response = client.post(
        reverse("referrals:send", args=[draft.pk]), {"version": draft.version, "support_meeting_ref": decision.ref}
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.state == ReferralState.REQUESTED and draft.legal_basis == "support_meeting"


def test_new_participation_form_suggests_places_and_creates_a_draft(personas, case_a, place, login):
    client = login(personas.caseworker_a)
    url = reverse("referrals:new", args=["participation"]) + f"?case={case_a.pk}"
    page = client.get(url)
    assert page.status_code == 200 and place.name in page.content.decode()
    person = case_a.subject_rows.first().person
    response = client.post(
        url,
        {
            "person": person.pk,
            "place": place.pk,
            "request_text": "見学から始めたい",
            "card_preferred_name": "たろう",
            "card_wishes": "料理",
            "card_accommodations": "筆談希望",
        },
    )
    assert response.status_code == 302
    assert person.referrals.get().state == ReferralState.DRAFT


def test_new_referral_from_someone_elses_case_is_404(personas, case_a, login):
    url = reverse("referrals:new", args=["inter_agency"]) + f"?case={case_a.pk}"
    assert login(personas.caseworker_b).get(url).status_code == 404
    assert login(personas.place_staff).get(url).status_code == 404


def test_accepted_inter_agency_referral_lets_the_receiver_open_the_case(personas, case_a, login):
    referral = make_referral(
        case=case_a, by=personas.caseworker_a, sender=personas.window_a, receiver=personas.window_b
    )
    client = login(personas.caseworker_b)
    case_url = reverse("casework:case_detail", args=[case_a.pk])
    assert client.get(case_url).status_code == 404
    client.post(reverse("referrals:move", args=[referral.pk, "accept"]), {"version": referral.version})
    assert client.get(case_url).status_code == 200


def test_tsunagi_screens_open_a_linked_case(personas, login):
    client = login(personas.place_staff)
    response = client.post(
        reverse("referrals:new", args=["tsunagi"]),
        {
            "receiver_organization": personas.window_a.pk,
            "request_text": "元気がない様子",
            "card_preferred_name": "ゆうくん",
        },
    )
    assert response.status_code == 302
    referral = personas.place_operator.sent_referrals.get()
    client.post(
        reverse("referrals:send", args=[referral.pk]), {"version": referral.version, "tsunagi_basis": "person_agreed"}
    )
    worker = login(personas.caseworker_a)
    referral.refresh_from_db()
    worker.post(reverse("referrals:move", args=[referral.pk, "accept"]), {"version": referral.version})
    response = worker.post(
        reverse("referrals:open_case", args=[referral.pk]), {"domains": ["child"], "main_category": "childcare"}
    )
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.linked_case is not None
    place_page = client.get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    assert referral.linked_case.number not in place_page


def test_home_panels_list_incoming_referrals_for_place_staff(personas, participation, login):
    page = login(personas.place_staff).get(reverse("home")).content.decode()
    assert "受け入れ中の紹介" in page and "たろうさん" in page


MARKERS = {
    "assessment": "MARKER-ASSESSMENT-7f3a",
    "contact": "MARKER-CONTACT-91bc",
    "case_summary": "MARKER-SUMMARY-c0de",
    "household_note": "MARKER-HOUSEHOLD-55aa",
    "consent": "MARKER-CONSENT-e1e1",
    "family_name": "MARKER-FAMILYNAME-0b0b",
}


def test_withheld_case_fields_never_reach_place_staff(personas, case_a, place, login):
    worker, staff = personas.caseworker_a, personas.place_staff
    person = case_a.subject_rows.first().person
    type(person).objects.filter(pk=person.pk).update(family_name=MARKERS["family_name"])
    type(case_a).objects.filter(pk=case_a.pk).update(summary=MARKERS["case_summary"])
    from casework.assessment import ANSWERS, schema_items

    checklist = {key: next(iter(ANSWERS)) for key, _label in schema_items()}
    assessment_record(
        case=case_a, checklist=checklist, narrative=MARKERS["assessment"], assessed_on=datetime.date.today(), by=worker
    )
    contact_record_create(
        case=case_a,
        occurred_at=datetime.datetime.now(datetime.UTC),
        kind="phone",
        summary=MARKERS["contact"],
        by=worker,
    )
    household_update(household=case_a.household, by=worker, note=MARKERS["household_note"])
    consent = make_consent(person=person, organizations=[place.operator], purposes=["place_referral"], by=worker)
    type(consent).objects.filter(pk=consent.pk).update(
        giver_name=MARKERS["consent"], document_version=MARKERS["consent"]
    )
    referral = services.referral_create(
        kind="participation",
        by=worker,
        sender_organization=personas.window_a,
        case=case_a,
        person=person,
        place=place,
        request_text="見学をお願いします",
        **services.default_card(kind="participation", person=person, by=worker, organization=personas.window_a),
    )
    services.referral_send(referral=referral, by=worker)
    client = login(staff)
    pages = [reverse("home"), reverse("referrals:inbox"), reverse("referrals:outbox"), reverse("referrals:inbox_csv")]
    pages.append(reverse("referrals:detail", args=[referral.pk]))
    client.post(reverse("referrals:move", args=[referral.pk, "accept"]), {"version": referral.version})
    pages.append(reverse("referrals:detail", args=[referral.pk]))
    bodies = []
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        bodies.append(response.content.decode("utf-8-sig"))
    everything = "\n".join(bodies)
    for marker in MARKERS.values():
        assert marker not in everything
    assert case_a.number not in everything
    # The case page itself stays closed to the place.
    assert client.get(reverse("casework:case_detail", args=[case_a.pk])).status_code == 404


def test_the_inbox_pages_through_every_card_and_a_bad_page_number_shows_the_first(personas, case_a, login, monkeypatch):
    from referrals import selectors
    from tests.factories import make_referral

    monkeypatch.setattr(selectors, "PAGE_SIZE", 2)
    sent = [
        make_referral(case=case_a, by=personas.caseworker_a, sender=personas.window_a, receiver=personas.window_b)
        for _ in range(5)
    ]
    client = login(personas.caseworker_b)
    seen = []
    for page in (1, 2, 3):
        html = client.get(reverse("referrals:inbox") + f"?page={page}").content.decode()
        seen += [r.pk for r in sent if f"#{r.pk}<" in html]
        assert f"5件中 {page} / 3 ページ" in html
    assert sorted(seen) == sorted(r.pk for r in sent)
    first = client.get(reverse("referrals:inbox") + "?page=abc")
    assert first.status_code == 200 and "5件中 1 / 3 ページ" in first.content.decode()
    csv_text = client.get(reverse("referrals:inbox_csv")).content.decode("utf-8-sig")
    assert len([line for line in csv_text.splitlines()[1:] if line]) == 5


def test_home_reads_only_the_cards_it_shows_and_writes_its_log_rows_in_one_insert(personas, case_a, place, login):
    """Issue 20: the panel shows 20 cards, reads 20 (not the whole inbox) and the page's log rows go in one INSERT."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from referrals.selectors import HOME_ROWS

    sent = [
        make_referral(
            kind="participation", case=case_a, by=personas.caseworker_a, sender=personas.window_a, place=place
        )
        for _ in range(HOME_ROWS + 2)
    ]
    client = login(personas.place_staff)
    client.get(reverse("home"))
    before = AccessLog.objects.count()
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("home")).content.decode()
    shown = [r.pk for r in sent if f"#{r.pk} " in page]
    assert len(shown) == HOME_ROWS and sent[-1].pk in shown
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "casework_accesslog"')]
    locks = [q["sql"] for q in queries.captured_queries if "advisory" in q["sql"]]
    assert len(inserts) == 1 and len(locks) == 1
    # The consents' case teams are read once for every card, not once per card.
    teams = [q for q in queries.captured_queries if q["sql"].startswith('SELECT "casework_caseteammembership"')]
    assert len(teams) <= 2, len(teams)
    rows = AccessLog.objects.order_by("id")[before:]
    assert {row.object_type for row in rows} >= {"referral_home"}
    assert [row.seq for row in rows] == list(range(rows[0].seq, rows[0].seq + len(rows)))
