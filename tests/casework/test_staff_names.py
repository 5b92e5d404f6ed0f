"""Staff names read family name first everywhere, from one helper (issue 16, Japanese conventions)."""

import pytest
from django.urls import reverse

from core.japanese import staff_name

pytestmark = pytest.mark.django_db


def test_the_helper_and_get_full_name_put_the_family_name_first(personas):
    assert staff_name(personas.caseworker_a) == "佐藤\u3000一郎"
    assert personas.caseworker_a.get_full_name() == "佐藤\u3000一郎"


def test_the_header_and_the_case_page_show_the_family_name_first(personas, case_a, login):
    html = login(personas.caseworker_a).get(case_a.get_absolute_url()).content.decode()
    assert "佐藤\u3000一郎" in html and "一郎 佐藤" not in html


def test_a_referral_card_contact_names_the_worker_family_name_first(personas, case_a, login):
    url = reverse("referrals:new", args=["inter_agency"]) + f"?case={case_a.pk}"
    html = login(personas.caseworker_a).get(url).content.decode()
    assert "佐藤\u3000一郎" in html
