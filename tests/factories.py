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
# Cases and meetings, built through the services so every related row stays consistent
# ---------------------------------------------------------------------------


def make_case(*, lead_organization, lead_worker, state: str = "intake", family_name: str = "山田", **kwargs):
    """Open a case for a new one-person household through casework's services and move it to `state`."""
    from casework import services as cw
    from casework.models import CaseState, HouseholdMember

    person = cw.person_create(
        by=lead_worker, family_name=family_name, given_name="太郎", family_name_kana="ヤマダ", given_name_kana="タロウ"
    )
    household = cw.household_create(name=f"{family_name}世帯", by=lead_worker)
    cw.household_add_member(
        household=household, person=person, relationship=HouseholdMember.Relationship.SELF, by=lead_worker
    )
    case = cw.case_open(
        household=household,
        subjects=[person],
        domains=kwargs.pop("domains", ["elderly"]),
        categories=[],
        main_category="care",
        intake_route="self",
        lead_organization=lead_organization,
        lead_worker=lead_worker,
        summary=kwargs.pop("summary", "介護と就労の相談"),
        by=lead_worker,
    )
    path = [CaseState.ASSESSMENT, CaseState.PLANNING, CaseState.IN_SUPPORT]
    if state in path:
        for step in path[: path.index(state) + 1]:
            case = cw.case_transition(case=case, to_state=step, by=lead_worker)
    case.person = person
    return case


def give_layered_consent(case, *, by, valid_until=None, given_on=None, organizations=None):
    """Record every subject's consent to discussion at 重層的支援会議 (case-team scope unless orgs given)."""
    from datetime import date

    from casework import services as cw
    from casework.models import Consent, ConsentPurpose

    consents = []
    for person in case.subjects.all():
        consents.append(
            cw.consent_record(
                person=person,
                case=case,
                given_on=given_on or date(2024, 4, 1),
                method=Consent.Method.WRITTEN,
                explained_by=by,
                scope_kind=Consent.ScopeKind.NAMED if organizations else Consent.ScopeKind.CASE_TEAM,
                organizations=organizations or [],
                purposes=[ConsentPurpose.LAYERED_MEETING, ConsentPurpose.SHARE_WITH_AGENCIES],
                valid_until=valid_until,
                by=by,
            )
        )
    return consents


def make_meeting(*, chair, kind="layered_meeting", secretary=None, participants=(), pledged=True, **kwargs):
    """Schedule a meeting through the service, add participants and (by default) record every pledge."""
    from datetime import timedelta

    from django.utils import timezone

    from casework.models import Membership
    from meetings import services as ms

    convened_by = kwargs.pop("convened_by", None) or Membership.objects.filter(user=chair).first().organization
    meeting = ms.meeting_create(
        kind=kind,
        title=kwargs.pop("title", "第1回 ケース会議"),
        starts_at=kwargs.pop("starts_at", timezone.now() + timedelta(days=3)),
        convened_by=convened_by,
        chair=chair,
        secretary=secretary,
        place="市役所 3階会議室",
        by=chair,
    )
    for user in participants:
        ms.meeting_participant_add(meeting=meeting, user=user, by=chair)
    if pledged:
        for participant in meeting.participants.filter(removed_at__isnull=True):
            ms.pledge_record(participant=participant, by=chair)
    meeting.refresh_from_db()
    return meeting
