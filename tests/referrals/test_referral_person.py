"""A referral is made for the household member the worker chose, and its card is that member's (issue 16, items 1 and 3)."""

import datetime
import json

import pytest
from django.urls import reverse

from referrals.models import Referral
from tests.factories import PersonFactory, make_case


@pytest.fixture
def household_case(personas):
    mother = PersonFactory(given_name="花子", preferred_name="はなこ", birth_date=datetime.date(1944, 5, 1))
    son = PersonFactory(given_name="一郎", preferred_name="いっちゃん", birth_date=datetime.date(1972, 6, 1))
    return make_case(lead_organization=personas.window_a, by=personas.caseworker_a, persons=[mother, son]), mother, son


def _post(client, case, person, **card):
    url = reverse("referrals:new", args=["inter_agency"]) + f"?case={case.pk}"
    data = {"person": person.pk, "receiver_organization": card.pop("receiver").pk, "request_text": "就労の相談"}
    return client.post(url, data | card)


@pytest.mark.parametrize("kind", ["inter_agency", "participation"])
def test_any_household_member_can_be_referred(personas, household_case, place, login, kind):
    case, _mother, son = household_case
    client = login(personas.caseworker_a)
    url = reverse("referrals:new", args=[kind]) + f"?case={case.pk}"
    data = {"person": son.pk, "request_text": "見学から", "card_preferred_name": "いっちゃん", "card_age_band": "50代"}
    if kind == "inter_agency":
        data |= {"receiver_organization": personas.window_b.pk, "card_name": son.full_name}
    else:
        data |= {"place": place.pk}
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()
    assert Referral.objects.get().person == son


def test_the_form_offers_each_members_card(personas, household_case, login):
    case, mother, son = household_case
    page = login(personas.caseworker_a).get(reverse("referrals:new", args=["inter_agency"]) + f"?case={case.pk}")
    html = page.content.decode()
    assert 'data-card-source="person-cards"' in html and 'id="person-cards"' in html
    start = html.index('id="person-cards"')
    cards = json.loads(html[html.index(">", start) + 1 : html.index("</script>", start)])
    assert cards[str(son.pk)]["card_preferred_name"] == "いっちゃん"
    assert cards[str(mother.pk)]["card_name"] == mother.full_name


def test_a_card_left_with_another_members_name_is_refused(personas, household_case, login):
    case, mother, son = household_case
    response = _post(
        login(personas.caseworker_a),
        case,
        son,
        receiver=personas.window_b,
        card_preferred_name="はなこ",
        card_age_band=mother.age_band,
        card_name=mother.full_name,
    )
    assert response.status_code == 200
    assert "別の世帯員" in response.content.decode()
    assert not Referral.objects.exists()
