"""factory_boy factories whose related objects stay consistent."""

import datetime

import factory
from django.contrib.auth import get_user_model

from casework.choices import Domain, Role
from casework.models import Membership, Organization
from casework.services.cases import case_open, case_team_add, case_transition
from casework.services.consent import consent_record
from casework.services.persons import household_add_member, household_create, person_create

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
    from casework.services.cases import case_open
    from casework.services.persons import household_add_member

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


# --- places -----------------------------------------------------------------


class PlaceOperatorFactory(OrganizationFactory):
    name = factory.Sequence(lambda n: f"居場所運営団体{n}")
    kind = Organization.Kind.PLACE_OPERATOR
    domains = factory.LazyFunction(list)


class PlaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "places.Place"
        django_get_or_create = ["operator", "name"]

    operator = factory.SubFactory(PlaceOperatorFactory)
    name = factory.Sequence(lambda n: f"居場所{n}")
    kind = "community_cafe"
    area = "中央"
    address = "みどり市中央1-1"
    target_groups = factory.LazyFunction(lambda: ["anyone"])
    activities = factory.LazyFunction(lambda: ["お茶"])
    accommodations = factory.LazyFunction(list)
    accepts_referrals = True
    is_active = True


class PlaceScheduleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "places.PlaceSchedule"

    place = factory.SubFactory(PlaceFactory)
    weekday = 2
    weeks_of_month = factory.LazyFunction(list)
    start_time = datetime.time(10, 0)
    end_time = datetime.time(12, 0)


def make_consent(*, person, organizations, purposes, by, case=None, given_on=None, valid_until=None):
    """Record a given consent naming the organizations for the purposes (through consent_record)."""
    import datetime

    from casework.services.consent import consent_record

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


def give_sharing_consent(case, *, organization, by, given_on=None, valid_until=None, scope="named"):
    """Record every subject's consent to share the case with the organization (a team add needs it).

    scope="case_team" records a consent to share with the case team instead of naming the organization.
    """
    from casework.models import Consent, ConsentPurpose
    from casework.services.consent import consent_record

    case_team = scope == "case_team"
    return [
        make_consent(
            person=person,
            organizations=[] if case_team else [organization],
            purposes=[ConsentPurpose.SHARE_WITH_AGENCIES],
            by=by,
            case=case,
            given_on=given_on,
            valid_until=valid_until,
        )
        if not case_team
        else consent_record(
            person=person,
            case=case,
            given_on=given_on or datetime_today_minus(10),
            method=Consent.Method.WRITTEN,
            explained_by=by,
            scope_kind=Consent.ScopeKind.CASE_TEAM,
            purposes=[ConsentPurpose.SHARE_WITH_AGENCIES],
            valid_until=valid_until,
            by=by,
        )
        for person in case.subjects.all().order_by("id")
    ]


def datetime_today_minus(days: int):
    import datetime

    return datetime.date.today() - datetime.timedelta(days=days)


def add_to_team(case, organization, *, by, note=""):
    """Record the subjects' consent naming the organization, then let the lead add it to the case team."""

    consents = give_sharing_consent(case, organization=organization, by=by)
    case_team_add(case=case, organization=organization, by=by, note=note)
    return consents


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


# ---------------------------------------------------------------------------
# Meetings (and the cases they discuss), built through the services so every related row stays consistent
# ---------------------------------------------------------------------------


def make_meeting_case(*, lead_organization, lead_worker, state: str = "intake", family_name: str = "山田", **kwargs):
    """Open a case for a new one-person household through casework's services and move it to `state`."""

    from casework.models import CaseState, HouseholdMember

    person = person_create(
        by=lead_worker, family_name=family_name, given_name="太郎", family_name_kana="ヤマダ", given_name_kana="タロウ"
    )
    household = household_create(name=f"{family_name}世帯", by=lead_worker)
    household_add_member(
        household=household, person=person, relationship=HouseholdMember.Relationship.SELF, by=lead_worker
    )
    case = case_open(
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
            case = case_transition(case=case, to_state=step, by=lead_worker)
    case.person = person
    return case


def give_layered_consent(case, *, by, valid_until=None, given_on=None, organizations=None):
    """Record every subject's consent to discussion at 重層的支援会議 (case-team scope unless orgs given)."""
    from datetime import date

    from casework.models import Consent, ConsentPurpose

    consents = []
    for person in case.subjects.all():
        consents.append(
            consent_record(
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


def propose_case(case, *, kind="layered_meeting", purpose="information_sharing", by=None, reason=""):
    """Propose the case for a meeting of that kind, as its lead worker unless `by` is given."""
    from meetings import services as ms

    return ms.case_propose(case=case, kind=kind, purpose=purpose, reason=reason, by=by or case.lead_worker)


def put_on_agenda(*, meeting, case, purpose, by, summary=None):
    """Put a case on an agenda the way the screens do: proposed by its lead, the lead taking part, picked by the chair."""
    from meetings import services as ms
    from meetings.models import CaseProposal, MeetingKind, MeetingParticipant

    lead = case.lead_worker
    if not CaseProposal.objects.filter(case=case, kind=meeting.kind, state=CaseProposal.State.PROPOSED).exists():
        propose_case(case, kind=meeting.kind, purpose=purpose, by=lead)
    taking_part = MeetingParticipant.objects.filter(
        meeting=meeting, organization_id=case.lead_organization_id, removed_at__isnull=True
    )
    if not taking_part.exists():
        participant = ms.meeting_participant_add(
            meeting=meeting, user=lead, organization=case.lead_organization, by=meeting.chair
        )
        if meeting.kind == MeetingKind.SUPPORT_MEETING:
            ms.pledge_record(participant=participant, by=meeting.chair)
    return ms.agenda_item_add(meeting=meeting, case=case, purpose=purpose, by=by, summary=summary)
