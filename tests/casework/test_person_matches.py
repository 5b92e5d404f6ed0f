"""名寄せ: candidates within reach only, link and merge with both lead organizations' agreement, reversible."""

import datetime
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.urls import reverse

from casework.disclosure import case_basis, person_basis
from casework.models import AccessLog, CaseSubject, HouseholdMember, Person, PersonMatch
from casework.selectors import person_match_candidates
from casework.services.person_matches import (
    person_match_agree,
    person_match_request,
    person_match_undo,
    person_reference_fields,
)
from casework.viewers import Viewer
from tests.conftest import sign_in
from tests.factories import PersonFactory, add_to_team, make_case

pytestmark = pytest.mark.django_db

BIRTH = datetime.date(1972, 1, 20)


def _person(**fields):
    values = {
        "family_name": "山田",
        "given_name": "一郎",
        "family_name_kana": "ヤマダ",
        "given_name_kana": "イチロウ",
        "birth_date": BIRTH,
        "phone": "03-1234-5678",
        "prefecture": "東京都",
        "city": "みどり市",
        "street": "南町2-3-4",
    }
    values.update(fields)
    return PersonFactory(**values)


@pytest.fixture
def pair(personas):
    """The same man entered by window A (as typed, katakana) and by window B (hiragana, full-width, 丁目)."""
    a = _person()
    b = _person(
        family_name="山田",
        given_name="一郎",
        family_name_kana="やまだ",
        given_name_kana="いちろう",
        phone="０３（１２３４）５６７８",
        street="南町２丁目３番４号",
    )
    case_a = make_case(lead_organization=personas.window_a, by=personas.caseworker_a, persons=[a])
    case_b = make_case(lead_organization=personas.window_b, by=personas.caseworker_b, persons=[b])
    return a, b, case_a, case_b


def _share_both_ways(personas, case_a, case_b):
    add_to_team(case_a, personas.window_b, by=personas.caseworker_a)
    add_to_team(case_b, personas.window_a, by=personas.caseworker_b)


def test_a_record_outside_the_viewers_reach_is_never_a_candidate(personas, pair):
    a, b, case_a, case_b = pair
    assert person_match_candidates(Viewer(personas.caseworker_a), a) == []
    client = sign_in(personas.caseworker_a)
    response = client.get(reverse("casework:person_matches", args=[case_a.pk, a.pk]))
    assert response.status_code == 200
    assert "候補はありません" in response.content.decode()
    html = response.content.decode()
    assert f"記録ID {b.pk}" not in html and "南町２丁目" not in html
    row = AccessLog.objects.filter(object_type="person_match_candidates").latest("id")
    assert row.person_ids == [a.pk]


def test_candidates_within_reach_name_their_reasons_and_are_logged(personas, pair):
    a, b, case_a, case_b = pair
    add_to_team(case_b, personas.window_a, by=personas.caseworker_b)
    found = person_match_candidates(Viewer(personas.caseworker_a), a)
    assert [c.person.pk for c in found] == [b.pk]
    assert set(found[0].reasons[:3]) == {"フリガナが一致", "生年月日が一致", "電話番号が一致"}
    assert found[0].reasons[3].startswith("住所が似ている")
    assert found[0].case_numbers == [case_b.number]
    client = sign_in(personas.caseworker_a)
    page = client.get(reverse("casework:person_matches", args=[case_a.pk, a.pk]))
    assert page["Cache-Control"].startswith("no-store") or "no-store" in page["Cache-Control"]
    html = page.content.decode()
    # Names as typed: the hiragana furigana is saved as katakana, the 丁目 address is shown as typed.
    assert "南町２丁目３番４号" in html and "昭和47年1月20日" in html
    row = AccessLog.objects.filter(object_type="person_match_candidates").latest("id")
    assert row.person_ids == sorted([a.pk, b.pk])


def test_a_lapsed_team_basis_hides_the_candidate(personas, pair):
    a, b, case_a, case_b = pair
    consents = add_to_team(case_b, personas.window_a, by=personas.caseworker_b)
    for c in consents:
        c.valid_until = datetime.date.today() - datetime.timedelta(days=1)
        c.save(update_fields=["valid_until"])
    assert person_match_candidates(Viewer(personas.caseworker_a), a) == []


def test_a_link_within_one_organization_is_done_at_once_and_unlinks(personas):
    a = _person()
    b = _person(given_name="一朗")
    make_case(lead_organization=personas.window_a, by=personas.caseworker_a, persons=[a])
    make_case(lead_organization=personas.window_a, by=personas.caseworker_a, persons=[b])
    match = person_match_request(kind="link", survivor=a, merged=b, reason="同じ方と確認", by=personas.caseworker_a)
    assert match.state == PersonMatch.State.DONE
    assert CaseSubject.objects.filter(person=b).exists()  # both records kept
    person_match_undo(match=match, reason="別人と判明", by=personas.supervisor_a)
    match.refresh_from_db()
    assert match.state == PersonMatch.State.UNDONE and match.end_reason == "別人と判明"
    steps = list(AccessLog.objects.filter(object_type="personmatch").order_by("id").values_list("reason", flat=True))
    assert steps == ["名寄せ:link:request", "名寄せ:link:done", "名寄せ:link:undo"]
    assert all("同じ方" not in s for s in steps)


def test_a_reason_is_required(personas):
    a, b = _person(), _person()
    make_case(lead_organization=personas.window_a, by=personas.caseworker_a, persons=[a])
    make_case(lead_organization=personas.window_a, by=personas.caseworker_a, persons=[b])
    with pytest.raises(ValidationError, match="理由を入力"):
        person_match_request(kind="link", survivor=a, merged=b, reason="  ", by=personas.caseworker_a)
    assert not PersonMatch.objects.exists()


def test_a_merge_between_two_organizations_needs_both(personas, pair):
    a, b, case_a, case_b = pair
    _share_both_ways(personas, case_a, case_b)
    match = person_match_request(
        kind="merge", survivor=a, merged=b, reason="電話と生年月日が一致", by=personas.caseworker_a
    )
    assert match.state == PersonMatch.State.REQUESTED
    assert CaseSubject.objects.filter(case=case_b, person=b).exists()
    with pytest.raises(ValidationError):
        person_match_agree(match=match, by=personas.supervisor_a)  # window A already agreed
    person_match_agree(match=match, by=personas.caseworker_b)
    match.refresh_from_db()
    assert match.state == PersonMatch.State.DONE
    assert CaseSubject.objects.filter(case=case_b, person=a).exists()
    assert not CaseSubject.objects.filter(person=b).exists()
    # The disclosure rules apply to the merged person at once: window B reaches the survivor through
    # its own case, and still not window A's case beyond what its team row allows.
    assert person_basis(personas.caseworker_b, a.pk) is not None
    assert person_basis(personas.caseworker_b, b.pk) is None
    # The merged record redirects to the survivor.
    client = sign_in(personas.caseworker_b)
    response = client.get(reverse("casework:person_matches", args=[case_b.pk, b.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("casework:person_matches", args=[case_b.pk, a.pk])
    person_match_undo(match=match, reason="別人と判明", by=personas.caseworker_b)
    assert CaseSubject.objects.filter(case=case_b, person=b).exists()
    assert not CaseSubject.objects.filter(case=case_b, person=a).exists()


def test_an_organization_that_cannot_see_both_records_is_not_asked(personas, pair):
    a, b, case_a, case_b = pair
    add_to_team(case_b, personas.window_a, by=personas.caseworker_b)  # B does not reach A's record
    with pytest.raises(ValidationError, match="根拠がない"):
        person_match_request(kind="link", survivor=a, merged=b, reason="同じ方", by=personas.caseworker_a)
    assert not PersonMatch.objects.exists()


def test_a_team_member_who_is_no_lead_cannot_request(personas, pair):
    a, b, case_a, case_b = pair
    _share_both_ways(personas, case_a, case_b)
    add_to_team(case_a, personas.coordinator_org, by=personas.caseworker_a)
    add_to_team(case_b, personas.coordinator_org, by=personas.caseworker_b)
    with pytest.raises(ValidationError, match="主担当機関"):
        person_match_request(kind="link", survivor=a, merged=b, reason="同じ方", by=personas.coordinator)


# ---------------------------------------------------------------------------
# Every foreign key to Person moves with a merge and comes back with the unmerge
# ---------------------------------------------------------------------------


def _row_builders(personas, merged, case_b):
    """One way to make a row of each model that refers to a person. A new foreign key needs one here."""
    from casework.services.disclosure_requests import disclosure_request_open
    from casework.services.plans import contact_record_create
    from tests.factories import make_consent, make_referral

    def household_member():
        return HouseholdMember.objects.get(person=merged)

    def case_subject():
        return CaseSubject.objects.get(person=merged)

    def consent():
        return make_consent(
            person=merged, organizations=[personas.window_b], purposes=["share_with_agencies"], by=personas.caseworker_b
        )

    def contact():
        return contact_record_create(
            case=case_b,
            occurred_at=datetime.datetime.now(datetime.UTC),
            kind="phone",
            person=merged,
            summary="電話で近況を聞いた",
            by=personas.caseworker_b,
        )

    def disclosure_request():
        return disclosure_request_open(
            person=merged, received_on=datetime.date.today(), requester="self", by=personas.auditor
        )

    def referral():
        return make_referral(
            case=case_b, by=personas.caseworker_b, sender=personas.window_b, receiver=personas.municipal
        )

    def legal_hold():
        from casework.services.retention import legal_hold_set

        return legal_hold_set(person_id=merged.pk, reason="審査請求の対応中", by=personas.administrator)

    return {
        "casework.legalhold.person": legal_hold,
        "casework.householdmember.person": household_member,
        "casework.casesubject.person": case_subject,
        "casework.consent.person": consent,
        "casework.contactrecord.person": contact,
        "casework.disclosurerequest.person": disclosure_request,
        "referrals.referral.person": referral,
    }


def test_every_foreign_key_to_person_moves_and_comes_back(personas, pair):
    a, b, case_a, case_b = pair
    _share_both_ways(personas, case_a, case_b)
    builders = _row_builders(personas, b, case_b)
    fields = {f"{f.model._meta.label_lower}.{f.name}": f for f in person_reference_fields()}
    # A foreign key to Person added later fails here until the test (and a builder) knows it.
    assert set(fields) == set(builders), f"foreign keys to Person without a row builder: {set(fields) ^ set(builders)}"
    rows = {label: build() for label, build in builders.items()}
    match = person_match_request(kind="merge", survivor=a, merged=b, reason="同じ方", by=personas.caseworker_a)
    person_match_agree(match=match, by=personas.caseworker_b)
    match.refresh_from_db()
    for label, row in rows.items():
        field = fields[label]
        row = field.model._base_manager.get(pk=row.pk)
        assert getattr(row, field.attname) == a.pk, label
        assert row.pk in match.moved[label]
    assert not any(f.model._base_manager.filter(**{f.attname: b.pk}).exists() for f in fields.values())
    person_match_undo(match=match, reason="別人と判明", by=personas.caseworker_a)
    for label, row in rows.items():
        field = fields[label]
        assert getattr(field.model._base_manager.get(pk=row.pk), field.attname) == b.pk, label
    # What was the survivor's own before the merge stays the survivor's.
    assert CaseSubject.objects.filter(case=case_a, person=a).exists()


def test_a_merge_of_two_members_of_one_household_is_refused(personas):
    a, b = _person(), _person(given_name="一朗")
    make_case(lead_organization=personas.window_a, by=personas.caseworker_a, persons=[a, b])
    with pytest.raises(ValidationError, match="紐付け"):
        person_match_request(kind="merge", survivor=a, merged=b, reason="同じ方", by=personas.caseworker_a)


# ---------------------------------------------------------------------------
# Screens: who gets them, hostile input
# ---------------------------------------------------------------------------


@pytest.fixture
def requested(personas, pair):
    a, b, case_a, case_b = pair
    _share_both_ways(personas, case_a, case_b)
    match = person_match_request(kind="link", survivor=a, merged=b, reason="同じ方", by=personas.caseworker_a)
    return match


def test_each_screen_answers_its_personas_and_404s_the_rest(personas, pair, requested):
    a, b, case_a, case_b = pair
    urls = [
        reverse("casework:person_matches", args=[case_a.pk, a.pk]),
        reverse("casework:person_match", args=[requested.pk]),
    ]
    for url in urls:
        for user in (personas.caseworker_a, personas.supervisor_a, personas.caseworker_b):
            assert sign_in(user).get(url).status_code == 200, (url, user)
        for user in (
            personas.coordinator,
            personas.chair,
            personas.place_staff,
            personas.auditor,
            personas.administrator,
        ):
            assert sign_in(user).get(url).status_code == 404, (url, user)
        assert sign_in(None).get(url).status_code == 302
    listing = sign_in(personas.caseworker_b).get(reverse("casework:person_match_list"))
    assert listing.status_code == 200 and "山田" in listing.content.decode()
    assert "山田" not in sign_in(personas.caseworker_a).get(reverse("casework:person_match_list")).content.decode()
    assert sign_in(personas.place_staff).get(reverse("casework:person_match_list")).status_code == 404


def test_agree_through_the_screen_links_the_records(personas, pair, requested):
    client = sign_in(personas.caseworker_b)
    response = client.post(reverse("casework:person_match_agree", args=[requested.pk]))
    assert response.status_code == 302
    requested.refresh_from_db()
    assert requested.state == PersonMatch.State.DONE
    page = client.get(reverse("casework:person_match", args=[requested.pk])).content.decode()
    assert "紐付けを解除する" in page and "鈴木" in page


def test_outsiders_cannot_agree_or_undo(personas, pair, requested):
    for user in (personas.coordinator, personas.auditor, personas.administrator, personas.place_staff):
        for name in ("person_match_agree", "person_match_withdraw", "person_match_undo"):
            response = sign_in(user).post(reverse(f"casework:{name}", args=[requested.pk]), {"reason": "x"})
            assert response.status_code == 404
    requested.refresh_from_db()
    assert requested.state == PersonMatch.State.REQUESTED


@pytest.mark.parametrize("other", ["", "-1", "0", "abc", "9" * 30, "１２", "1 OR 1=1", "<script>", str(2**63)])
def test_hostile_candidate_ids_change_nothing(personas, pair, other):
    a, b, case_a, case_b = pair
    client = sign_in(personas.caseworker_a)
    response = client.post(
        reverse("casework:person_match_new", args=[case_a.pk, a.pk]), {"other": other, "kind": "link", "reason": "同じ"}
    )
    assert response.status_code in (400, 404)
    assert not PersonMatch.objects.exists()


def test_a_record_outside_reach_named_by_id_answers_404(personas, pair):
    a, b, case_a, case_b = pair  # window A has no basis for B's record
    client = sign_in(personas.caseworker_a)
    response = client.post(
        reverse("casework:person_match_new", args=[case_a.pk, a.pk]), {"other": b.pk, "kind": "link", "reason": "同じ"}
    )
    assert response.status_code == 404
    assert not PersonMatch.objects.exists()
    assert AccessLog.objects.filter(object_type="person", outcome="denied").exists()


@pytest.mark.parametrize("reason", ["", "   ", "あ" * 501])
def test_a_bad_reason_gets_a_japanese_message(personas, pair, reason):
    a, b, case_a, case_b = pair
    add_to_team(case_b, personas.window_a, by=personas.caseworker_b)
    client = sign_in(personas.caseworker_a)
    response = client.post(
        reverse("casework:person_match_new", args=[case_a.pk, a.pk]), {"other": b.pk, "kind": "link", "reason": reason}
    )
    assert response.status_code == 400
    assert "理由" in response.content.decode()
    assert not PersonMatch.objects.exists()


# ---------------------------------------------------------------------------
# Race: two merges of the same pair at once, on PostgreSQL with real threads
# ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_merges_of_the_same_pair_at_once_one_wins(personas):
    if connection.vendor != "postgresql":
        pytest.skip("the race needs PostgreSQL's row locks")
    a, b = _person(), _person(given_name="一朗")
    make_case(lead_organization=personas.window_a, by=personas.caseworker_a, persons=[a])
    make_case(lead_organization=personas.window_a, by=personas.caseworker_a, persons=[b])
    barrier = threading.Barrier(2)
    results = []

    def merge(survivor, merged, user):
        try:
            barrier.wait()
            person_match_request(kind="merge", survivor=survivor, merged=merged, reason="同じ方", by=user)
            results.append("ok")
        except ValidationError as exc:
            results.append(" ".join(exc.messages))
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=merge, args=(a, b, personas.caseworker_a)),
        threading.Thread(target=merge, args=(b, a, personas.supervisor_a)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["ok", "どちらかの記録はすでに統合されています。"], results
    assert PersonMatch.objects.filter(kind="merge", state="done").count() == 1
    survivor = PersonMatch.objects.get().survivor
    assert CaseSubject.objects.filter(person=survivor).count() == 2
    assert case_basis(personas.caseworker_a, CaseSubject.objects.filter(person=survivor).first().case) is not None
    assert Person.objects.count() >= 2
