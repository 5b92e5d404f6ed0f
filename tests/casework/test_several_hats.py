"""Several hats: a user with more than one membership acts in one at a time, chosen in the header."""

import pytest

from casework import disclosure
from casework.choices import Role
from casework.models import AccessLog, Membership
from casework.viewers import ACTIVE_MEMBERSHIP_KEY
from tests.factories import MembershipFactory, make_case, make_meeting


@pytest.fixture
def two_hats(personas):
    """Caseworker A also works for window B (window A's membership is the older one)."""
    second = MembershipFactory(user=personas.caseworker_a, organization=personas.window_b, role=Role.CASEWORKER)
    first = Membership.objects.get(user=personas.caseworker_a, organization=personas.window_a)
    return first, second


@pytest.fixture
def case_b(personas):
    return make_case(lead_organization=personas.window_b, by=personas.caseworker_b, family_name="西村")


def switch(client, membership):
    return client.post("/account/hat/", {"membership": membership.pk})


@pytest.mark.django_db
def test_the_header_offers_the_hats_and_names_the_active_one(personas, login, two_hats):
    first, second = two_hats
    client = login(personas.caseworker_a)
    page = client.get("/").content.decode()
    assert 'name="membership"' in page and "作業する所属" in page
    assert f'<option value="{first.pk}" selected>' in page
    assert f'<option value="{second.pk}">' in page
    # One hat only: the header just names it.
    page = login(personas.caseworker_b).get("/").content.decode()
    assert 'name="membership"' not in page and "障害者相談支援センター西・相談支援員" in page


@pytest.mark.django_db
def test_the_caseload_and_case_pages_follow_the_active_hat(personas, login, two_hats, case_a, case_b):
    first, second = two_hats
    client = login(personas.caseworker_a)
    listing = client.get("/cases/").content.decode()
    assert case_a.number in listing and case_b.number not in listing
    assert client.get(f"/cases/{case_b.pk}/").status_code == 404

    response = switch(client, second)
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.session[ACTIVE_MEMBERSHIP_KEY] == second.pk
    listing = client.get("/cases/").content.decode()
    assert case_b.number in listing and case_a.number not in listing
    assert client.get(f"/cases/{case_a.pk}/").status_code == 404
    assert client.get(f"/cases/{case_b.pk}/").status_code == 200
    row = (
        AccessLog.objects.filter(actor=personas.caseworker_a, object_type="case", object_id=str(case_b.pk))
        .filter(outcome=AccessLog.Outcome.ALLOWED)
        .order_by("id")
        .last()
    )
    assert (row.organization_id, row.role) == (personas.window_b.pk, Role.CASEWORKER)


@pytest.mark.django_db
def test_switching_is_logged_and_only_to_ones_own_current_memberships(personas, login, two_hats):
    first, second = two_hats
    client = login(personas.caseworker_a)
    switch(client, second)
    row = AccessLog.objects.get(action=AccessLog.Action.MEMBERSHIP_SWITCH)
    assert (row.actor, row.organization_id, row.object_id) == (
        personas.caseworker_a,
        personas.window_b.pk,
        str(second.pk),
    )
    assert row.reason == f"from=membership:{first.pk}"

    others = Membership.objects.get(user=personas.caseworker_b)
    page = client.post("/account/hat/", {"membership": others.pk}, follow=True).content.decode()
    assert "切り替えられません" in page
    assert client.session[ACTIVE_MEMBERSHIP_KEY] == second.pk
    for junk in ("", "abc", "99999999999999999999", "\x00"):
        assert client.post("/account/hat/", {"membership": junk}).status_code == 302
    assert client.session[ACTIVE_MEMBERSHIP_KEY] == second.pk
    assert AccessLog.objects.filter(action=AccessLog.Action.MEMBERSHIP_SWITCH).count() == 1
    assert client.get("/account/hat/").status_code == 405


@pytest.mark.django_db
def test_an_ended_hat_falls_back_to_one_that_holds(personas, login, two_hats):
    from casework.services.memberships import membership_end

    first, second = two_hats
    client = login(personas.caseworker_a)
    switch(client, second)
    # Ending one membership ends the user's sessions: they sign in again and find the hat that holds.
    membership_end(membership=second, reason="兼務の解除")
    client = login(personas.caseworker_a)
    page = client.get("/").content.decode()
    assert 'name="membership"' not in page and "地域包括支援センター東・相談支援員" in page


@pytest.mark.django_db
def test_meetings_follow_the_hat_the_user_takes_part_for(personas, login, two_hats):
    first, second = two_hats
    meeting = make_meeting(
        chair=personas.chair, secretary=personas.coordinator, participants=[], convened_by=personas.municipal
    )
    from meetings import services as ms

    with pytest.raises(Exception, match="複数の機関"):
        ms.meeting_participant_add(meeting=meeting, user=personas.caseworker_a, by=personas.chair)
    ms.meeting_participant_add(
        meeting=meeting, user=personas.caseworker_a, organization=personas.window_a, by=personas.chair
    )
    client = login(personas.caseworker_a)
    assert client.get(f"/meetings/{meeting.pk}/").status_code == 200
    home = client.get("/").content.decode()
    assert meeting.title in home
    switch(client, second)
    assert client.get(f"/meetings/{meeting.pk}/").status_code == 404
    assert meeting.title not in client.get("/").content.decode()


@pytest.mark.django_db
def test_outside_a_request_the_first_hat_is_the_active_one(personas, two_hats, case_a, case_b):
    first, _second = two_hats
    assert disclosure.case_organization_ids(personas.caseworker_a) == {personas.window_a.pk}
    assert disclosure.case_basis(personas.caseworker_a, case_b) is None
    assert disclosure.case_basis(personas.caseworker_a, case_a) is not None


@pytest.mark.django_db
def test_an_auditor_hat_needs_the_second_factor_even_while_another_hat_is_worn(personas, login):
    MembershipFactory(user=personas.caseworker_a, organization=personas.municipal, role=Role.AUDITOR)
    client = login(personas.caseworker_a, second_factor=False)
    response = client.get("/cases/")
    assert response.status_code == 302 and "/2fa/" in response["Location"]
