"""Demo referrals in several states (idempotent: each is found by its request text)."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from casework.disclosure import consent_check
from casework.models import Case
from casework.services.cases import case_open
from casework.services.consent import consent_record
from casework.services.persons import household_add_member, household_create, person_create
from places.models import Place
from referrals import services
from referrals.models import Referral

DEMO_TAG = "［デモ］"


def _case(base, key: str, *, org_key: str, user: str, family: str, given: str, preferred: str, birth_year: int):
    from datetime import date

    cases = base.get("cases") or {}
    if key in cases:
        return cases[key]
    summary = f"{DEMO_TAG}{key}"
    existing = Case.objects.filter(summary=summary).first()
    if existing:
        return existing
    by = base["users"][user]
    person = person_create(
        by=by,
        family_name=family,
        given_name=given,
        preferred_name=preferred,
        birth_date=date(birth_year, 6, 1),
    )
    household = household_create(name=f"{family}さんの世帯", by=by)
    household_add_member(household=household, person=person, relationship="self", by=by)
    return case_open(
        household=household,
        subjects=[person],
        domains=["elderly" if org_key == "houkatsu" else "child"],
        categories=["isolation"],
        main_category="isolation",
        intake_route="self",
        lead_organization=base["organizations"][org_key],
        lead_worker=by,
        summary=summary,
        by=by,
    )


def _place(base):
    """Return the demo 子ども食堂 (places' demo may have made it; else an adapter creates it)."""

    operator = base["organizations"]["npo_shokudo"]
    place = Place.objects.filter(operator=operator).order_by("id").first()
    if place is None:
        place = Place.objects.create(
            operator=operator,
            name="みどり子ども食堂",
            kind="kodomo_shokudo",
            area="みどり中央",
            activities=["料理", "食事", "学習"],
            accepts_referrals=True,
        )
    elif not place.accepts_referrals:
        Place.objects.filter(pk=place.pk).update(accepts_referrals=True)
        place.refresh_from_db()
    return place


def _consent(person, org, purpose, by, case):

    if consent_check(person=person, organization=org, purpose=purpose, on=timezone.localdate(), case=case).allowed:
        return
    consent_record(
        person=person,
        given_on=timezone.localdate() - timedelta(days=7),
        method="written",
        explained_by=by,
        scope_kind="named",
        purposes=[purpose],
        organizations=[org],
        case=case,
        by=by,
    )


def _referral(text, **kwargs):
    existing = Referral.objects.filter(request_text=text).first()
    if existing:
        return existing, False
    return services.referral_create(request_text=text, **kwargs), True


@transaction.atomic
def seed(stdout, base) -> None:
    """Create the demo referrals: to a 子ども食堂, between windows, and a つなぎ from a salon."""
    orgs, users = base["organizations"], base["users"]
    sato = users["houkatsu_sato"]
    case = _case(
        base, "ひとり暮らしの見守り", org_key="houkatsu", user="houkatsu_sato",
        family="森", given="健太", preferred="けんたさん", birth_year=1958,
    )  # fmt: skip
    person = case.subject_rows.first().person
    place = _place(base)
    card = services.default_card(kind="participation", person=person, by=sato, organization=orgs["houkatsu"])
    card.update(
        card_wishes="料理の手伝いをしたい", card_accommodations="大人数が苦手、午前のみ", card_schedule="水曜の午前"
    )
    _consent(person, place.operator, "place_referral", sato, case)
    _consent(person, orgs["shougai"], "share_with_agencies", sato, case)

    # 1. 参加支援 waiting for the 子ども食堂 to accept (the done-when walk-through starts here).
    r, created = _referral(
        f"{DEMO_TAG}食堂での調理ボランティアとして受け入れをお願いします",
        kind="participation", by=sato, sender_organization=orgs["houkatsu"], case=case, person=person,
        place=place, due_on=timezone.localdate() + timedelta(days=7), **card,
    )  # fmt: skip
    if created:
        services.referral_send(referral=r, by=sato)

    # 2. 参加支援 under way: accepted, 見学 recorded, one attendance.
    r, created = _referral(
        f"{DEMO_TAG}食事会への参加から始めたいです",
        kind="participation", by=sato, sender_organization=orgs["houkatsu"], case=case, person=person,
        place=place, **card,
    )  # fmt: skip
    if created:
        staff = users["shokudo_yoshida"]
        services.referral_send(referral=r, by=sato)
        # Sent a week ago: nothing at the place is recorded before the day a referral was sent.
        Referral.objects.filter(pk=r.pk).update(sent_at=timezone.now() - timedelta(days=7))
        r.refresh_from_db()
        services.referral_move(move="accept", referral=r, by=staff)
        services.participation_stage_record(
            referral=r, stage="visit", on=timezone.localdate() - timedelta(days=3), by=staff, accompanied_by="佐藤"
        )
        services.referral_attendance_record(
            referral=r, on=timezone.localdate() - timedelta(days=1), status="attended", by=staff, note="楽しそうでした"
        )

    # 3. 機関間 to the disability window, requested and overdue.
    inter_card = services.default_card(kind="inter_agency", person=person, by=sato, organization=orgs["houkatsu"])
    r, created = _referral(
        f"{DEMO_TAG}障害福祉サービスの利用相談に加わってください",
        kind="inter_agency", by=sato, sender_organization=orgs["houkatsu"], receiver_organization=orgs["shougai"],
        case=case, person=person, **inter_card,
    )  # fmt: skip
    if created:
        services.referral_send(referral=r, by=sato)
        Referral.objects.filter(pk=r.pk).update(due_on=timezone.localdate() - timedelta(days=2))

    # 4. 機関間 declined by the coordinator (on a recorded 支援会議 decision when the meetings demo made one).
    r, created = _referral(
        f"{DEMO_TAG}多機関協働での役割分担をお願いします",
        kind="inter_agency", by=sato, sender_organization=orgs["houkatsu"], receiver_organization=orgs["shakyo"],
        case=case, person=person, **inter_card,
    )  # fmt: skip
    if created:
        decisions = services.support_meeting_choices(r)
        if not decisions:
            _consent(person, orgs["shakyo"], "share_with_agencies", sato, case)
        services.referral_send(referral=r, by=sato, support_meeting_ref=decisions[0] if decisions else "")
        services.referral_move(
            move="reject", referral=r, by=users["shakyo_watanabe"], reason="現在は主担当機関の支援で足りるため"
        )

    # 5. つなぎ from the salon to the 自立相談 window, waiting to be accepted.
    r, created = _referral(
        f"{DEMO_TAG}最近サロンで食事をとらずに帰る方がいて心配です",
        kind="tsunagi", by=users["salon_yamada"], sender_organization=orgs["salon"],
        receiver_organization=orgs["jiritsu"], card_preferred_name="みのるさん", card_age_band="70代",
        card_schedule="毎週火曜の午後にサロンに来ます", card_contact="ひだまりサロン 山田",
    )  # fmt: skip
    if created:
        services.referral_send(referral=r, by=users["salon_yamada"], tsunagi_basis="person_agreed")
    stdout.write(f"紹介・つなぎ: {Referral.objects.filter(request_text__startswith=DEMO_TAG).count()}件（デモ）")
