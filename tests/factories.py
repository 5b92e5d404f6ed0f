"""factory_boy factories whose related objects stay consistent."""

import factory
from django.contrib.auth import get_user_model

from casework.choices import Domain, Role
from casework.models import Membership, Organization

PASSWORD = "correct-horse-battery-9"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    last_name = "山田"
    first_name = factory.Sequence(lambda n: f"花子{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.jp")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"相談窓口{n}")
    kind = Organization.Kind.WINDOW
    domains = factory.LazyFunction(lambda: [Domain.ELDERLY])


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Role.CASEWORKER


# ---------------------------------------------------------------------------
# Casework: persons, households and cases (built through the services, so grants stay consistent)
# ---------------------------------------------------------------------------


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "casework.Person"

    family_name = "山田"
    given_name = factory.Sequence(lambda n: f"太郎{n}")
    family_name_kana = "ヤマダ"
    given_name_kana = "タロウ"
    birth_date = factory.LazyFunction(lambda: __import__("datetime").date(1970, 4, 1))
    gender = "male"


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "casework.Household"

    name = factory.Sequence(lambda n: f"山田さん世帯{n}")
    tags = factory.LazyFunction(list)


def make_case(
    *,
    lead_organization,
    by,
    persons=None,
    household=None,
    domains=("elderly",),
    tags=(),
    opened_on=None,
    main_category="care",
    **person_fields,
):
    """Open a case through case_open with one subject person (or the given ones) in a household."""
    from casework.services import case_open, household_add_member

    household = household or HouseholdFactory(tags=list(tags))
    if persons is None:
        persons = [PersonFactory(**person_fields)]
    for i, person in enumerate(persons):
        household_add_member(household=household, person=person, relationship="self" if i == 0 else "child", by=by)
    return case_open(
        household=household,
        subjects=persons,
        domains=list(domains),
        categories=[main_category],
        main_category=main_category,
        intake_route="self",
        lead_organization=lead_organization,
        lead_worker=by,
        summary="主訴の例",
        by=by,
        opened_on=opened_on,
    )


# ---------------------------------------------------------------------------
# Places and referrals (consent, place and referral agree with the case and organizations)
# ---------------------------------------------------------------------------


class PlaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "places.Place"
        django_get_or_create = ["operator", "name"]

    operator = factory.SubFactory(OrganizationFactory, kind=Organization.Kind.PLACE_OPERATOR, domains=[])
    name = factory.Sequence(lambda n: f"みんなの食堂{n}")
    kind = "kodomo_shokudo"
    area = "中央地区"
    activities = factory.LazyFunction(lambda: ["料理", "食事"])
    accepts_referrals = True


def make_consent(*, person, organizations, purposes, by, case=None, given_on=None, valid_until=None):
    """Record a given consent naming the organizations for the purposes (through consent_record)."""
    import datetime

    from casework.services import consent_record

    return consent_record(
        person=person,
        given_on=given_on or datetime.date.today() - datetime.timedelta(days=10),
        method="written",
        explained_by=by,
        scope_kind="named",
        purposes=list(purposes),
        organizations=list(organizations),
        valid_until=valid_until,
        case=case,
        by=by,
    )


def make_referral(*, kind="inter_agency", case=None, by, sender, receiver=None, place=None, send=True, **card):
    """Create (and by default send, with a matching consent) a referral through the services."""
    from referrals import services

    person = case.subject_rows.first().person if case is not None else None
    if kind == "participation" and receiver is None:
        receiver = place.operator
    if send and kind != "tsunagi":
        purpose = "place_referral" if kind == "participation" else "share_with_agencies"
        make_consent(person=person, organizations=[receiver], purposes=[purpose], by=by, case=case)
    card.setdefault("card_preferred_name", "たろうさん")
    referral = services.referral_create(
        kind=kind,
        by=by,
        sender_organization=sender,
        receiver_organization=receiver,
        case=case,
        person=person,
        place=place,
        request_text=card.pop("request_text", "参加の受け入れをお願いします"),
        **card,
    )
    if send:
        referral = services.referral_send(
            referral=referral, by=by, tsunagi_basis="person_agreed" if kind == "tsunagi" else ""
        )
    return referral
