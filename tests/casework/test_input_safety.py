"""Bad input gets a Japanese message, never a 500; 和暦 is read and shown around the era change."""

from datetime import date

import pytest
from django.urls import reverse

from casework.forms import PersonForm
from casework.models import Case, Person
from core.forms import WarekiDateField


def _intake(client, **overrides):
    data = {
        "household_name": "山田さん世帯",
        "tags": ["8050"],
        "domains": ["elderly", "poverty"],
        "main_category": "care",
        "categories": ["hikikomori"],
        "intake_route": "family",
        "opened_on": "令和7年6月1日",
        "summary": "80代の母と50代の息子",
        "p1-family_name": "山田",
        "p1-given_name": "ハル",
        "p1-family_name_kana": "やまだ",
        "p1-given_name_kana": "ﾊﾙ",
        "p1-birth_date": "昭和19年5月1日",
        "p1-gender": "female",
        "p1-relationship": "self",
        "p1-lives_together": "on",
        "p1-is_subject": "on",
        "p2-family_name": "山田",
        "p2-given_name": "一郎",
        "p2-family_name_kana": "ヤマダ",
        "p2-given_name_kana": "イチロウ",
        "p2-birth_date": "1974-02-10",
        "p2-relationship": "child",
        "p2-lives_together": "on",
        "p2-is_subject": "on",
    }
    data.update(overrides)
    data = {k: v for k, v in data.items() if v is not None}
    return client.post(reverse("casework:case_intake"), data)


@pytest.mark.django_db
def test_a_nul_character_in_a_form_gets_a_message(personas, login):
    response = _intake(login(personas.caseworker_a), **{"p1-family_name": "山\x00田"})
    assert response.status_code == 200
    assert "使用できない文字" in response.content.decode()
    assert not Case.objects.exists() and not Person.objects.exists()


@pytest.mark.parametrize("bad", ["山\x00田", "山\ud800田", "山\udfff", "山\ufffd田"])
def test_the_person_form_rejects_nul_and_lone_surrogates_with_a_message(bad):
    form = PersonForm({"family_name": bad})
    assert not form.is_valid()
    assert "使用できない文字" in form.errors["family_name"][0]


@pytest.mark.django_db
def test_broken_utf8_bytes_in_a_raw_body_get_a_message(personas, login):
    client = login(personas.caseworker_a)
    body = b"household_name=%E5%B1%B1%ED%A0%80&p1-family_name=%00"
    response = client.post(reverse("casework:case_intake"), body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert "使用できない文字" in response.content.decode()


@pytest.mark.django_db
def test_the_intake_takes_in_a_household_of_two_and_a_cross_domain_case(personas, login):
    response = _intake(login(personas.caseworker_a))
    assert response.status_code == 302, response.content.decode()[:3000]
    case = Case.objects.get()
    assert case.number.startswith("R7-")
    assert sorted(case.domains) == ["elderly", "poverty"]
    assert case.household.tags == ["8050"]
    assert case.household.members.count() == 2 and case.subjects.count() == 2
    mother = case.subjects.get(given_name="ハル")
    assert (mother.family_name_kana, mother.given_name_kana) == ("ヤマダ", "ハル")
    assert mother.birth_date == date(1944, 5, 1)


@pytest.mark.django_db
def test_the_intake_offers_to_link_a_possible_duplicate_the_user_may_see(personas, login):
    client = login(personas.caseworker_a)
    assert _intake(client).status_code == 302
    response = _intake(
        client,
        **{
            "household_name": "別の世帯",
            "p2-family_name": "",
            "p2-given_name": "",
            "p2-family_name_kana": "",
            "p2-given_name_kana": "",
            "p2-birth_date": "",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200 and "すでに登録されています" in html
    existing = Person.objects.get(given_name="ハル")
    response = _intake(
        client,
        **{
            "household_name": "別の世帯",
            "p1-link_person": str(existing.pk),
            "p2-family_name": "",
            "p2-given_name": "",
            "p2-family_name_kana": "",
            "p2-given_name_kana": "",
            "p2-birth_date": "",
        },
    )
    assert response.status_code == 302
    assert Person.objects.filter(given_name="ハル").count() == 1
    assert existing.memberships.count() == 2  # in two households now
    # Another window does not see (or learn about) window A's person.
    other = _intake(
        login(personas.caseworker_b),
        household_name="B世帯",
        **{
            "p2-family_name": "",
            "p2-given_name": "",
            "p2-family_name_kana": "",
            "p2-given_name_kana": "",
            "p2-birth_date": "",
        },
    )
    assert other.status_code == 302


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("平成31年4月30日", date(2019, 4, 30)),
        ("令和元年5月1日", date(2019, 5, 1)),
        ("R1.5.1", date(2019, 5, 1)),
        ("2019-05-01", date(2019, 5, 1)),
    ],
)
def test_wareki_input_around_the_era_change(text, expected):
    assert WarekiDateField().clean(text) == expected


@pytest.mark.parametrize("text", ["平成31年5月1日", "令和元年4月30日", "2019-02-30", "あした"])
def test_impossible_dates_get_a_japanese_message(text):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        WarekiDateField().clean(text)
    assert any(ch >= "\u3040" for ch in exc.value.messages[0])


@pytest.mark.django_db
def test_dates_are_shown_in_wareki_around_the_era_change(personas, login):
    from tests.factories import make_case

    case = make_case(
        lead_organization=personas.window_a,
        by=personas.caseworker_a,
        birth_date=date(2019, 4, 30),
        opened_on=date(2019, 5, 1),
    )
    html = login(personas.caseworker_a).get(reverse("casework:case_detail", args=[case.pk])).content.decode()
    assert "平成31年4月30日" in html and "令和元年5月1日" in html


def test_half_width_and_hiragana_furigana_become_full_width_katakana():
    form = PersonForm({"family_name_kana": "ﾔﾏﾀﾞ", "given_name_kana": "はなこ"})
    assert form.is_valid(), form.errors
    assert (form.cleaned_data["family_name_kana"], form.cleaned_data["given_name_kana"]) == ("ヤマダ", "ハナコ")
    assert not PersonForm({"family_name_kana": "Yamada"}).is_valid()


def test_no_model_has_a_field_for_the_my_number():
    from django.apps import apps

    for model in apps.get_app_config("casework").get_models():
        for field in model._meta.get_fields():
            name = (getattr(field, "name", "") + str(getattr(field, "verbose_name", ""))).lower().replace("_", "")
            assert not any(word in name for word in ["mynumber", "個人番号", "マイナンバー", "kojinbango"]), (
                model,
                field,
            )
