"""Seed the throwaway database with the few rows the fault tests need; print their ids and cookies as JSON.

Run as `python -m tests.faults.seed` with DATABASE_URL pointing at the throwaway server.
"""

import json
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# A name that must never appear in an error page; the tests search the bodies for it.
SECRET_FAMILY_NAME = "秘匿川"


def main() -> dict:
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client

    from casework.choices import Domain, Role
    from casework.models import Organization
    from casework.services.plans import plan_create
    from tests.factories import (
        MembershipFactory,
        OrganizationFactory,
        UserFactory,
        give_layered_consent,
        make_meeting,
        make_meeting_case,
        put_on_agenda,
    )

    window_a = OrganizationFactory(
        name="地域包括支援センター東", kind=Organization.Kind.WINDOW, domains=[Domain.ELDERLY]
    )
    municipal = OrganizationFactory(name="市 福祉総合相談課", kind=Organization.Kind.MUNICIPAL, domains=[])

    def member(username, org, **names):
        return MembershipFactory(
            user=UserFactory(username=username, **names), organization=org, role=Role.CASEWORKER
        ).user

    caseworker = member("cw_a", window_a, last_name="佐藤", first_name="一郎")
    chair = member("chair", municipal, last_name="渡邊", first_name="六子")

    case = make_meeting_case(
        lead_organization=window_a, lead_worker=caseworker, state="planning", family_name=SECRET_FAMILY_NAME
    )
    give_layered_consent(case, by=caseworker)
    plan_create(case=case, goals="週1回の訪問で生活を整える", by=caseworker)
    meeting = make_meeting(chair=chair, participants=[caseworker], kind="layered_meeting")
    item = put_on_agenda(meeting=meeting, case=case, purpose="plan_agreement", by=chair)
    meeting.refresh_from_db()

    def cookie(user) -> str:
        client = Client()
        client.force_login(user)
        return client.cookies[settings.SESSION_COOKIE_NAME].value

    return {
        "case": case.pk,
        "meeting": meeting.pk,
        "item": item.pk,
        "meeting_version": meeting.version,
        "caseworker": {"username": caseworker.username, "cookie": cookie(caseworker)},
        "chair": {"username": chair.username, "cookie": cookie(chair)},
        "organization": window_a.pk,
        "secret_name": SECRET_FAMILY_NAME,
        "cookie_name": settings.SESSION_COOKIE_NAME,
    }


if __name__ == "__main__":
    print(json.dumps(main()))
