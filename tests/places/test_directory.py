"""Directory screens: who may list, see, create and edit places; filters; constant query counts."""

import pytest
from django.urls import reverse

from places.models import Place
from tests.factories import PlaceFactory, PlaceOperatorFactory, PlaceScheduleFactory

pytestmark = pytest.mark.django_db

DIRECTORY_ROLES = ["caseworker_a", "supervisor_a", "coordinator", "place_staff", "administrator"]


@pytest.fixture
def own_place(personas):
    place = PlaceFactory(
        operator=personas.place_operator,
        name="みんなの食堂",
        kind="kodomo_shokudo",
        area="南",
        accommodations=["allergy"],
        honorarium_terms="1回1,000円",
    )
    PlaceScheduleFactory(place=place, weekday=5, weeks_of_month=[2, 4])
    return place


@pytest.fixture
def other_place(personas):
    return PlaceFactory(name="よそのサロン", kind="salon", area="北", accepts_referrals=False)


@pytest.mark.parametrize("persona", DIRECTORY_ROLES)
def test_directory_roles_see_the_list_and_detail(personas, login, own_place, other_place, persona):
    client = login(getattr(personas, persona))
    html = client.get(reverse("places:list")).content.decode()
    assert "みんなの食堂" in html and "よそのサロン" in html and "第2・第4土曜 10:00〜12:00" in html
    assert client.get(reverse("places:detail", args=[other_place.pk])).status_code == 200


@pytest.mark.parametrize("persona", ["auditor", "deactivated"])
def test_auditors_and_others_get_404_or_login(personas, login, own_place, persona):
    client = login(getattr(personas, persona))
    for url in (reverse("places:list"), reverse("places:detail", args=[own_place.pk]), reverse("places:create")):
        assert client.get(url).status_code in (302, 404)


def test_anonymous_visitors_are_sent_to_login(login, own_place):
    assert login(None).get(reverse("places:list")).status_code == 302


def test_a_user_without_membership_gets_404(login, own_place):
    from tests.factories import UserFactory

    client = login(UserFactory(username="nobody"))
    assert client.get(reverse("places:list")).status_code == 404


def test_inactive_places_are_hidden_from_caseworkers_but_not_their_operator(personas, login, own_place):
    own_place.is_active = False
    own_place.save()
    assert login(personas.caseworker_a).get(reverse("places:detail", args=[own_place.pk])).status_code == 404
    assert login(personas.place_staff).get(reverse("places:detail", args=[own_place.pk])).status_code == 200


def test_internal_terms_are_shown_only_to_editors(personas, login, own_place):
    assert "1回1,000円" not in login(personas.caseworker_a).get(own_place.get_absolute_url()).content.decode()
    assert "1回1,000円" in login(personas.place_staff).get(own_place.get_absolute_url()).content.decode()


def test_filters(personas, login, own_place, other_place):
    client = login(personas.caseworker_a)

    def names(**params):
        html = client.get(reverse("places:list"), params).content.decode()
        return {n for n in ("みんなの食堂", "よそのサロン") if n in html}

    assert names(area="南") == {"みんなの食堂"}
    assert names(kind="salon") == {"よそのサロン"}
    assert names(weekday="5") == {"みんなの食堂"}
    assert names(accommodation="allergy") == {"みんなの食堂"}
    assert names(target="anyone") == {"みんなの食堂", "よそのサロン"}
    assert names(accepts_referrals="on") == {"みんなの食堂"}
    assert names(q="食堂") == {"みんなの食堂"}


def test_bad_filter_input_gives_a_page_not_a_500(personas, login, own_place):
    response = login(personas.caseworker_a).get(reverse("places:list"), {"weekday": "9", "q": "\x00", "page": "x"})
    assert response.status_code == 200


def test_the_list_keeps_a_constant_query_count(personas, login, django_assert_max_num_queries):
    for n in range(30):
        place = PlaceFactory(operator=personas.place_operator, name=f"居場所{n:02d}")
        PlaceScheduleFactory(place=place)
    client = login(personas.caseworker_a)
    client.get(reverse("places:list"))
    with django_assert_max_num_queries(12):
        client.get(reverse("places:list"))
    with django_assert_max_num_queries(12):
        client.get(reverse("places:list"), {"page": "2"})


def test_operator_staff_create_a_place_for_their_organization(personas, login):
    client = login(personas.place_staff)
    response = client.post(
        reverse("places:create"),
        {
            "operator": personas.place_operator.pk,
            "name": "𠮷野の縁側",
            "kind": "community_cafe",
            "area": "中央",
            "schedule_text": "第2・第4土曜 11:00～14:00",
            "target_groups": ["anyone"],
            "accommodations": ["wheelchair"],
            "activities_text": "料理、手芸",
            "pledge_signed_on": "令和7年4月1日",
            "accepts_referrals": "on",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    place = Place.objects.get()
    assert place.name == "𠮷野の縁側" and place.schedule_text == "第2・第4土曜 11:00〜14:00"
    assert place.activities == ["料理", "手芸"] and place.pledge_signed_on.isoformat() == "2025-04-01"


def test_operator_staff_cannot_create_for_another_operator(personas, login):
    other = PlaceOperatorFactory()
    response = login(personas.place_staff).post(
        reverse("places:create"), {"operator": other.pk, "name": "X", "kind": "salon", "is_active": "on"}
    )
    assert response.status_code == 200 and Place.objects.count() == 0


def test_a_bad_schedule_or_nul_is_explained(personas, login):
    response = login(personas.place_staff).post(
        reverse("places:create"),
        {"operator": personas.place_operator.pk, "name": "A\x00", "kind": "salon", "schedule_text": "ときどき"},
    )
    html = response.content.decode()
    assert response.status_code == 200 and "開催日時を読み取れません" in html
    assert Place.objects.count() == 0


def test_operator_staff_edit_their_own_place(personas, login, own_place):
    client = login(personas.place_staff)
    url = reverse("places:edit", args=[own_place.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "operator": personas.place_operator.pk,
            "name": "みんなの食堂（新）",
            "kind": "kodomo_shokudo",
            "schedule_text": "毎週水曜 17:00-19:00",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    own_place.refresh_from_db()
    assert own_place.name == "みんなの食堂（新）" and own_place.schedule_text == "毎週水曜 17:00〜19:00"


def test_operator_staff_of_another_org_get_404_on_edit(personas, login, other_place):
    assert login(personas.place_staff).get(reverse("places:edit", args=[other_place.pk])).status_code == 404


@pytest.mark.parametrize("persona", ["caseworker_a", "supervisor_a", "coordinator", "auditor"])
def test_other_roles_cannot_create_or_edit(personas, login, own_place, persona):
    client = login(getattr(personas, persona))
    assert client.get(reverse("places:create")).status_code == 404
    assert client.get(reverse("places:edit", args=[own_place.pk])).status_code == 404


def test_administrators_edit_any_place(personas, login, other_place):
    assert login(personas.administrator).get(reverse("places:edit", args=[other_place.pk])).status_code == 200


def test_place_staff_home_shows_their_places(personas, login, own_place, other_place):
    html = login(personas.place_staff).get(reverse("home")).content.decode()
    assert "運営している居場所" in html and "みんなの食堂" in html and "よそのサロン" not in html


def test_caseworker_home_links_to_matching(personas, login):
    html = login(personas.caseworker_a).get(reverse("home")).content.decode()
    assert reverse("places:match") in html


def test_selectors_for_referrals(personas, own_place, other_place):
    from places.selectors import places_for_operator_user, referral_accepting_places

    assert list(places_for_operator_user(personas.place_staff)) == [own_place]
    assert list(referral_accepting_places()) == [own_place]


def test_seed_demo_is_idempotent(db):
    from django.core.management import call_command

    call_command("seed_demo")
    count = Place.objects.count()
    call_command("seed_demo")
    assert count >= 10 and Place.objects.count() == count
    assert Place.objects.filter(schedules__weeks_of_month=[2, 4]).exists()
    assert len(set(Place.objects.values_list("area", flat=True))) >= 3
