"""A first walk through the case screens as window A's caseworker."""

import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_the_case_pages_render_for_the_lead_window(personas, login, case_a):
    client = login(personas.caseworker_a)
    for name in [
        "case_detail",
        "transition",
        "team",
        "member_add",
        "consent_create",
        "assessment_create",
        "plan_create",
        "contact_create",
    ]:
        response = client.get(reverse(f"casework:{name}", args=[case_a.pk]))
        assert response.status_code == 200, name
    for name in ["case_list", "case_mine", "case_intake", "break_glass"]:
        assert client.get(reverse(f"casework:{name}")).status_code == 200, name
    assert client.get(reverse("home")).status_code == 200
