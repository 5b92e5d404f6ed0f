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
