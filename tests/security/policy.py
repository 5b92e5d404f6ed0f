"""The permission policy: for every URL name, what each subject gets.

One line per URL name. A subject is a persona signed in a certain way and pointed at one side of the
world (tests/security/world.py): "own" is window A's side, which every staff subject below is meant
to reach (A's case has the coordinator and the municipality on its team; A's meeting is chaired by
the chair with the coordinator as secretary and caseworker A taking part; A's referrals go to the
persona place operator); "other" is window B's side, which none of them may reach; "closed" is A's
side with a participation referral that ended and whose card time ran out.

`only(OK, X, Y)` means X and Y get 200 and every other signed-in subject 404; anonymous and
deactivated users go to the login page and half-signed-in users to the second-factor page, unless a
line says otherwise. A new screen must get a line here or the matrix test fails naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from places.hsds import stable_id

# ---------------------------------------------------------------------------
# Outcomes
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """An expected answer: a status code and, for redirects, the URL name the Location must start with."""

    status: int
    location: str | None = None

    def __str__(self) -> str:
        return f"{self.status}" + (f" → {self.location}" if self.location else "")


OK = Outcome(200)
FORBIDDEN = Outcome(403)  # only for participants of a meeting acting beyond their part (they know it exists)
NOT_FOUND = Outcome(404)
NOT_ALLOWED = Outcome(405)
LOGIN = Outcome(302, "login")
TO_SETUP = Outcome(302, "second_factor_setup")  # no authenticator enrolled yet
TO_CODE = Outcome(302, "second_factor_verify")  # enrolled, the code of this sign-in still pending
HOME = Outcome(302, "home")
UNAUTHORIZED = Outcome(401)  # the open API: a session is not a token


# ---------------------------------------------------------------------------
# Subjects
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """Who asks (a persona path on the World, None for anonymous), how they signed in, and which side they probe."""

    label: str
    user: str | None
    side: str = "own"
    second_factor: bool = True
    second_factor_for_all: bool = False

    def __str__(self) -> str:
        return self.label


ANON = Subject("anonymous", None)
CW_OWN = Subject("caseworker A on A's records", "personas.caseworker_a")
CW_OTHER = Subject("caseworker A on B's records", "personas.caseworker_a", "other")
SV_OWN = Subject("supervisor A on A's records", "personas.supervisor_a")
SV_OTHER = Subject("supervisor A on B's records", "personas.supervisor_a", "other")
COORD_OWN = Subject("coordinator on A's records (case team, meeting secretary)", "personas.coordinator")
COORD_OTHER = Subject("coordinator on B's records", "personas.coordinator", "other")
CHAIR_OWN = Subject("municipal chair on A's records (case team, meeting chair)", "personas.chair")
CHAIR_OTHER = Subject("municipal chair on B's records", "personas.chair", "other")
PLACE_ACTIVE = Subject("place staff, active referral, own place", "personas.place_staff")
PLACE_CLOSED = Subject("place staff, closed referral, own place", "personas.place_staff", "closed")
PLACE_OTHER = Subject("place staff on another operator's place and referral", "personas.place_staff", "other")
AUDITOR = Subject("auditor", "personas.auditor")
ADMIN = Subject("administrator", "personas.administrator")
ORG_ADMIN_OWN = Subject("window A's own administrator on A's staff", "personas.org_admin")
ORG_ADMIN_OTHER = Subject("window A's own administrator on B's staff", "personas.org_admin", "other")
DEACTIVATED = Subject("deactivated user", "personas.deactivated")
HALF_AUDITOR = Subject("auditor, enrolled, code pending", "personas.auditor", second_factor=False)
HALF_CW = Subject(
    "caseworker A, second factor pending (SECOND_FACTOR_FOR_ALL)",
    "personas.caseworker_a",
    second_factor=False,
    second_factor_for_all=True,
)

SUBJECTS = (
    ANON,
    CW_OWN,
    CW_OTHER,
    SV_OWN,
    SV_OTHER,
    COORD_OWN,
    COORD_OTHER,
    CHAIR_OWN,
    CHAIR_OTHER,
    PLACE_ACTIVE,
    PLACE_CLOSED,
    PLACE_OTHER,
    AUDITOR,
    ADMIN,
    ORG_ADMIN_OWN,
    ORG_ADMIN_OTHER,
    DEACTIVATED,
    HALF_AUDITOR,
    HALF_CW,
)
GATED = {ANON: LOGIN, DEACTIVATED: LOGIN, HALF_AUDITOR: TO_CODE, HALF_CW: TO_SETUP}

# Readable groups.
CASE_STAFF_OWN = (CW_OWN, SV_OWN, COORD_OWN, CHAIR_OWN)
CASE_STAFF_OTHER = (CW_OTHER, SV_OTHER, COORD_OTHER, CHAIR_OTHER)
CASE_STAFF = CASE_STAFF_OWN + CASE_STAFF_OTHER
WINDOW_A = (CW_OWN, SV_OWN)  # the lead organization of A's case, sender of A's referrals
CONVENERS = (COORD_OWN, COORD_OTHER, CHAIR_OWN, CHAIR_OTHER)  # municipal and coordinator case workers
PLACE_STAFF = (PLACE_ACTIVE, PLACE_CLOSED, PLACE_OTHER)
PLACE_OWN = (PLACE_ACTIVE, PLACE_CLOSED)  # both point at the persona operator's own place
MEETING_A = (CW_OWN, COORD_OWN, CHAIR_OWN)  # participants of A's meeting
ORG_ADMINS = (ORG_ADMIN_OWN, ORG_ADMIN_OTHER)
SIGNED_IN = CASE_STAFF + PLACE_STAFF + (AUDITOR, ADMIN) + ORG_ADMINS
DIRECTORY = CASE_STAFF + PLACE_STAFF + (ADMIN,)
REFERRAL_ACTORS = CASE_STAFF + PLACE_STAFF


# ---------------------------------------------------------------------------
# Rules
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Post:
    """A POST tried by every subject the rule refuses; it must answer the refusal and change nothing."""

    data: Callable[[object], dict]
    allowed: tuple[Subject, ...]
    also: dict[Subject, Outcome] = field(default_factory=dict)

    def refusals(self) -> dict[Subject, Outcome]:
        """Return the refused subjects and the answer each must get."""
        answers = {}
        for subject in SUBJECTS:
            if subject in self.allowed:
                continue
            answers[subject] = self.also.get(subject) or GATED.get(subject) or NOT_FOUND
        return answers


@dataclass(frozen=True)
class Rule:
    """What a GET answers per subject; the URL arguments (from the subject's side) and the optional POST probe."""

    get: dict[Subject, Outcome]
    post: Post | None = None
    args: Callable[[object], dict] | None = None
    query: Callable[[object], dict] | None = None


def only(status: Outcome, *allowed: Subject, refused: Outcome = NOT_FOUND, also=None, **rest) -> Rule:
    """Allowed subjects get `status`, other signed-in subjects `refused`; the gates apply unless overridden."""
    get = {}
    for subject in SUBJECTS:
        get[subject] = status if subject in allowed else GATED.get(subject, refused)
    get.update(also or {})
    return Rule(get=get, **rest)


def post(*allowed: Subject, data=lambda side: {}, also=None) -> Post:
    """A POST probe: every subject not allowed gets the refusal (404 unless `also` says otherwise)."""
    return Post(data=data, allowed=allowed, also=also or {})


def _api_rule(**rest) -> Rule:
    return only(UNAUTHORIZED, *SIGNED_IN, also={ANON: UNAUTHORIZED, DEACTIVATED: UNAUTHORIZED}, **rest)


def _pk(attr):
    return lambda side: {"pk": getattr(side, attr).pk}


def _organization(side):
    return {"organization": side.membership.organization_id}


def _move(side):
    return {"pk": side.referral.pk, "move": "cancel"}


def _referral_version(side):
    return {"reason": "権限のない操作", "outcome": "x", "version": side.referral.version}


def _item(side):
    return {"pk": side.meeting.pk, "item_pk": side.item.pk}


# Allowed POSTs are not part of the matrix (the feature tests cover them); the probe data is what a
# refused subject would need to change something if the gate were missing.
POLICY: dict[str, Rule] = {
    # --- project level, sign-in and the second factor -------------------------------------------
    "home": only(OK, *SIGNED_IN),
    "healthz": only(OK, *SIGNED_IN, also={ANON: OK, DEACTIVATED: OK}),
    "login": only(HOME, *SIGNED_IN, also={ANON: OK, DEACTIVATED: OK}),
    "logout": only(NOT_ALLOWED, *SIGNED_IN, also={HALF_AUDITOR: NOT_ALLOWED, HALF_CW: NOT_ALLOWED}),
    "password_change": only(OK, *SIGNED_IN),
    "password_change_done": only(OK, *SIGNED_IN),
    # Without a device the code page sends everyone to enrolment; verified auditors see the code form.
    "second_factor_verify": only(
        TO_SETUP,
        *SIGNED_IN,
        also={AUDITOR: OK, ADMIN: OK, ORG_ADMIN_OWN: OK, ORG_ADMIN_OTHER: OK, HALF_AUDITOR: OK, HALF_CW: TO_SETUP},
    ),
    # Replacing an enrolled authenticator needs a verified session first.
    "second_factor_setup": only(OK, *SIGNED_IN, also={HALF_AUDITOR: TO_CODE, HALF_CW: OK}),
    # The header's 作業する所属: POST only; a switch to a membership not one's own changes nothing.
    "active_membership_switch": only(NOT_ALLOWED, *SIGNED_IN),
    # --- the auditor's screens ------------------------------------------------------------------
    "audit:log": only(OK, AUDITOR),
    "audit:export": only(OK, AUDITOR, query=lambda s: {"format": "csv"}),
    "audit:person_history": only(OK, AUDITOR),
    "audit:report": only(OK, AUDITOR, args=lambda side: {"slug": "break-glass"}),
    "audit:chain": only(OK, AUDITOR),
    # --- casework -------------------------------------------------------------------------------
    # お知らせ: everyone signed in has their own; a notification row of someone else is 404 (tests/casework).
    "casework:todo": only(OK, *CASE_STAFF, *PLACE_STAFF),
    "casework:calendar": only(OK, *CASE_STAFF, *PLACE_STAFF),
    # The personal ICS feed: the secret in the path is the authentication (no session); an unknown one is 404
    # for everyone, signed in or not (tests/casework/test_calendar_feed.py covers a live secret).
    "casework:calendar_feed": only(
        NOT_FOUND, *SIGNED_IN, also={ANON: NOT_FOUND, DEACTIVATED: NOT_FOUND}, args=lambda s: {"secret": "jcal_x"}
    ),
    # 通知・配信の設定: everyone signed in; only those with a calendar may issue a feed URL.
    "casework:personal_settings": only(OK, *SIGNED_IN),
    "casework:calendar_feed_new": only(NOT_ALLOWED, *SIGNED_IN, post=post(*CASE_STAFF, *PLACE_STAFF)),
    "casework:calendar_feed_stop": only(NOT_ALLOWED, *SIGNED_IN, post=post(*SIGNED_IN)),
    "casework:digest_settings": only(NOT_ALLOWED, *SIGNED_IN, post=post(*SIGNED_IN, data=lambda s: {"daily": "on"})),
    "casework:notifications": only(OK, *SIGNED_IN),
    "casework:notification_count": only(OK, *SIGNED_IN),
    "casework:notification_read_all": only(NOT_ALLOWED, *SIGNED_IN),
    "casework:notification_open": only(NOT_ALLOWED, *SIGNED_IN, args=lambda side: {"pk": 2**31 - 1}),
    "casework:case_list": only(OK, *CASE_STAFF),
    # 人事異動: supervisors of their organization and administrators (numbers and states only, no names).
    "casework:handover": only(OK, SV_OWN, SV_OTHER, ADMIN),
    # 組織管理者: window A's own administrator on window A's staff only (B's membership and request: 404);
    # system administrators for any organization they name.
    "casework:org_admin": only(OK, *ORG_ADMINS, ADMIN, query=_organization),
    "casework:org_admin_account_new": only(OK, *ORG_ADMINS, ADMIN, query=_organization),
    "casework:org_admin_grant_new": only(OK, *ORG_ADMINS, ADMIN, query=_organization),
    "casework:org_admin_membership": only(
        OK,
        ORG_ADMIN_OWN,
        ADMIN,
        args=_pk("membership"),
        post=post(ORG_ADMIN_OWN, ADMIN, data=lambda side: {"action": "end", "ends_on": "2099-04-01", "reason": "異動"}),
    ),
    "casework:org_admin_grant_decide": only(
        NOT_ALLOWED,
        *SIGNED_IN,
        args=_pk("pending_grant"),
        post=post(ORG_ADMIN_OWN, ADMIN, data=lambda side: {"decision": "approve"}),
    ),
    # 決裁: supervisors of the lead organization (the hat they act in) only; the requester too gets 404 on
    # the decision screen and reads the outcome in the case's history.
    "casework:approvals": only(OK, SV_OWN, SV_OTHER),
    "casework:approval_detail": only(
        OK,
        SV_OWN,
        args=lambda s: {"pk": s.case.pk, "approval_pk": s.approval.pk},
        post=post(SV_OWN, data=lambda s: {"decision": "approve", "comment": ""}),
    ),
    "casework:case_mine": only(OK, *CASE_STAFF),
    "casework:case_intake": only(OK, *CASE_STAFF),
    "casework:break_glass": only(OK, *CASE_STAFF),
    "casework:case_detail": only(OK, *CASE_STAFF_OWN),
    "casework:transition": only(
        OK,
        *WINDOW_A,
        post=post(*WINDOW_A, data=lambda s: {"to_state": "in_support", "expected_version": s.case.version}),
    ),
    "casework:case_edit": only(
        OK,
        *WINDOW_A,
        post=post(*WINDOW_A, data=lambda s: {"summary": "権限のない変更", "version": s.case.version}),
    ),
    # Only the lead organization changes the case's state, details, persons, household, consents and
    # lead; the rest of the case team gets 404 there.
    "casework:case_change_lead": only(
        OK,
        *WINDOW_A,
        post=post(*WINDOW_A, data=lambda s: {"organization": s.case.lead_organization_id, "reason": "権限のない変更"}),
    ),
    "casework:person_edit": only(
        OK,
        *WINDOW_A,
        args=lambda s: {"pk": s.case.pk, "person_pk": s.person.pk},
        post=post(*WINDOW_A, data=lambda s: {"family_name": "改ざん", "given_name": "太郎"}),
    ),
    # 名寄せ: any case worker who may open the case sees the person's candidates (within their own reach);
    # the link, merge, agreement and undo are the lead organizations' (the services refuse the rest).
    "casework:person_matches": only(OK, *CASE_STAFF_OWN, args=lambda s: {"pk": s.case.pk, "person_pk": s.person.pk}),
    "casework:person_match_new": only(
        NOT_ALLOWED,
        *CASE_STAFF,
        args=lambda s: {"pk": s.case.pk, "person_pk": s.person.pk},
        post=post(*CASE_STAFF_OWN, data=lambda s: {"other": s.person.pk, "kind": "merge", "reason": "権限のない統合"}),
    ),
    "casework:person_match_list": only(OK, *CASE_STAFF),
    "casework:person_match": only(OK, *WINDOW_A, args=_pk("person_match")),
    "casework:person_match_agree": only(NOT_ALLOWED, *CASE_STAFF, args=_pk("person_match"), post=post(*WINDOW_A)),
    "casework:person_match_withdraw": only(
        NOT_ALLOWED, *CASE_STAFF, args=_pk("person_match"), post=post(*WINDOW_A, data=lambda s: {"reason": "取下げ"})
    ),
    "casework:person_match_undo": only(
        NOT_ALLOWED, *CASE_STAFF, args=_pk("person_match"), post=post(*WINDOW_A, data=lambda s: {"reason": "取消し"})
    ),
    "casework:household_edit": only(
        OK,
        *WINDOW_A,
        post=post(*WINDOW_A, data=lambda s: {"name": "改ざん世帯"}),
    ),
    "casework:household_member_edit": only(
        OK,
        *WINDOW_A,
        args=lambda s: {"pk": s.case.pk, "member_pk": s.case.household.members.first().pk},
        post=post(*WINDOW_A, data=lambda s: {"relationship": "other", "living_together": ""}),
    ),
    # Team members see the team; only the lead organization changes it (and the case's persons,
    # household, state and consents).
    "casework:team": only(
        OK,
        *CASE_STAFF_OWN,
        post=post(*WINDOW_A, data=lambda s: {"form": "remove", "organization": s.case.lead_organization_id}),
    ),
    "casework:member_add": only(OK, *WINDOW_A),
    "casework:consent_create": only(OK, *WINDOW_A),
    "casework:consent_withdraw": only(
        OK,
        *WINDOW_A,
        args=lambda s: {"pk": s.case.pk, "consent_pk": s.consent.pk},
        post=post(*WINDOW_A, data=lambda s: {"withdrawn_on": "2025-06-01", "note": "撤回"}),
    ),
    "casework:consent_form": only(OK, *CASE_STAFF_OWN, args=lambda s: {"pk": s.case.pk, "consent_pk": s.consent.pk}),
    "casework:assessment_create": only(OK, *CASE_STAFF_OWN),
    "casework:assessment_detail": only(
        OK, *CASE_STAFF_OWN, args=lambda s: {"pk": s.case.pk, "assessment_pk": s.assessment.pk}
    ),
    "casework:plan_create": only(OK, *CASE_STAFF_OWN),
    "casework:plan_detail": only(
        OK,
        *CASE_STAFF_OWN,
        args=lambda s: {"pk": s.case.pk, "plan_pk": s.plan.pk},
        post=post(*CASE_STAFF_OWN, data=lambda s: {"form": "propose"}),
    ),
    "casework:contact_create": only(OK, *CASE_STAFF_OWN),
    # 帳票 and drawings: whoever may see the case prints it (the print view logs 印刷, the PDF 出力, a drawing 閲覧).
    "casework:print_face_sheet": only(OK, *CASE_STAFF_OWN),
    "casework:pdf_face_sheet": only(OK, *CASE_STAFF_OWN),
    "casework:print_intake_sheet": only(OK, *CASE_STAFF_OWN),
    "casework:pdf_intake_sheet": only(OK, *CASE_STAFF_OWN),
    "casework:print_intake_blank": only(OK, *CASE_STAFF),
    "casework:pdf_intake_blank": only(OK, *CASE_STAFF),
    "casework:genogram": only(OK, *CASE_STAFF_OWN),
    "casework:ecomap": only(OK, *CASE_STAFF_OWN),
    "casework:print_assessment_sheet": only(
        OK, *CASE_STAFF_OWN, args=lambda s: {"pk": s.case.pk, "assessment_pk": s.assessment.pk}
    ),
    "casework:pdf_assessment_sheet": only(
        OK, *CASE_STAFF_OWN, args=lambda s: {"pk": s.case.pk, "assessment_pk": s.assessment.pk}
    ),
    "casework:print_plan_sheet": only(OK, *CASE_STAFF_OWN, args=lambda s: {"pk": s.case.pk, "plan_pk": s.plan.pk}),
    "casework:pdf_plan_sheet": only(OK, *CASE_STAFF_OWN, args=lambda s: {"pk": s.case.pk, "plan_pk": s.plan.pk}),
    # The consent form to sign is the lead organization's (it records consents); a recorded one prints for the team.
    "casework:print_consent_blank": only(OK, *WINDOW_A, args=lambda s: {"pk": s.case.pk, "person_pk": s.person.pk}),
    "casework:pdf_consent_blank": only(OK, *WINDOW_A, args=lambda s: {"pk": s.case.pk, "person_pk": s.person.pk}),
    "casework:print_consent_sheet": only(
        OK, *CASE_STAFF_OWN, args=lambda s: {"pk": s.case.pk, "consent_pk": s.consent.pk}
    ),
    "casework:pdf_consent_sheet": only(
        OK, *CASE_STAFF_OWN, args=lambda s: {"pk": s.case.pk, "consent_pk": s.consent.pk}
    ),
    "casework:print_contact_sheet": only(OK, *CASE_STAFF_OWN),
    "casework:pdf_contact_sheet": only(OK, *CASE_STAFF_OWN),
    # Team members see relatives and supports; only the lead organization records them.
    "casework:family_edit": only(
        OK,
        *CASE_STAFF_OWN,
        post=post(*WINDOW_A, data=lambda s: {"form": "support", "support-name": "改ざん", "support-kind": "other"}),
    ),
    # Open-API tokens: system administrators issue and revoke them.
    "casework:api_tokens": only(OK, ADMIN),
    # The operator's screen of scheduled jobs and the queue: system administrators only.
    "casework:scheduled_jobs": only(OK, ADMIN),
    "casework:api_token_revoke": only(NOT_ALLOWED, *SIGNED_IN, args=_pk("api_token"), post=post(ADMIN)),
    # 開示請求: privacy officers (the auditor role) only, any person's request (the request is the basis).
    "casework:disclosure_requests": only(OK, AUDITOR),
    "casework:disclosure_request": only(OK, AUDITOR, args=_pk("disclosure_request")),
    "casework:disclosure_package_csv": only(OK, AUDITOR, args=_pk("disclosure_request")),
    "casework:disclosure_package_pdf": only(OK, AUDITOR, args=_pk("disclosure_request")),
    # Case migration: system administrators only, every run (the file is theirs, not a window's).
    "casework:migration": only(OK, ADMIN),
    "casework:migration_run": only(OK, ADMIN, args=_pk("migration_run")),
    "casework:migration_mapping": only(OK, ADMIN, args=_pk("migration_run")),
    "casework:migration_apply": only(NOT_ALLOWED, *SIGNED_IN, args=_pk("migration_run"), post=post(ADMIN)),
    "casework:migration_cancel": only(NOT_ALLOWED, *SIGNED_IN, args=_pk("migration_run"), post=post(ADMIN)),
    # Retention and disposal, 個人情報ファイル簿: system administrators only (ids and numbers, no content).
    "casework:retention": only(OK, ADMIN, post=post(ADMIN, data=lambda s: {"candidates": [], "reason": "廃棄"})),
    "casework:retention_run": only(NOT_ALLOWED, *SIGNED_IN, post=post(ADMIN)),
    "casework:retention_rule": only(
        OK, ADMIN, args=_pk("retention_rule"), post=post(ADMIN, data=lambda s: {"years": "1", "basis": "改ざん"})
    ),
    "casework:disposal_decision": only(
        OK, ADMIN, args=_pk("disposal_decision"), post=post(ADMIN, data=lambda s: {"action": "reject", "note": "x"})
    ),
    "casework:disposal_history": only(OK, ADMIN),
    "casework:legal_holds": only(
        OK, ADMIN, post=post(ADMIN, data=lambda s: {"case_number": s.case.number, "reason": "改ざん"})
    ),
    "casework:legal_hold_release": only(
        NOT_ALLOWED, *SIGNED_IN, args=_pk("legal_hold"), post=post(ADMIN, data=lambda s: {"release_reason": "x"})
    ),
    "casework:file_ledger": only(OK, ADMIN),
    "casework:file_ledger_csv": only(OK, ADMIN),
    # --- places ---------------------------------------------------------------------------------
    "places:list": only(OK, *DIRECTORY),
    "places:create": only(OK, *PLACE_STAFF, ADMIN),
    "places:detail": only(OK, *DIRECTORY, args=_pk("place")),
    "places:edit": only(OK, *PLACE_OWN, ADMIN, args=_pk("place")),
    "places:attendance": only(OK, *PLACE_OWN, args=_pk("place")),
    "places:attendance_session": only(OK, *PLACE_OWN, args=_pk("place")),
    "places:match": only(OK, *CASE_STAFF, ADMIN),
    "places:import": only(OK, *PLACE_STAFF, ADMIN),
    # An import job belongs to its uploader alone (the persona place staff on A's side).
    "places:import_job": only(OK, *PLACE_OWN, args=lambda s: {"token": s.import_job.pk}),
    "places:import_confirm": only(
        NOT_ALLOWED,
        *SIGNED_IN,
        args=lambda s: {"token": s.import_job.pk},
        post=post(*PLACE_OWN),
    ),
    "places:export": only(OK, *PLACE_STAFF, ADMIN),
    "places:hsds": only(OK, *DIRECTORY),
    # --- the open API: only a bearer token opens it (tests/referrals/test_open_api.py); no session does ---
    "api_openapi": only(OK, *SIGNED_IN, also={ANON: OK, DEACTIVATED: OK}),
    "hsds:root": _api_rule(),
    "hsds:services": _api_rule(),
    "hsds:service": _api_rule(args=lambda s: {"id": stable_id("service", s.place.pk)}),
    "hsds:organizations": _api_rule(),
    "hsds:organization": _api_rule(args=lambda s: {"id": stable_id("organization", s.place.operator_id)}),
    "hsds:service_at_locations": _api_rule(),
    "fhir:task_search": _api_rule(),
    "fhir:task_read": _api_rule(args=_pk("referral")),
    # --- referrals (A's referral: window A → the persona operator's place) ------------------------
    "referrals:inbox": only(OK, *REFERRAL_ACTORS),
    "referrals:inbox_csv": only(OK, *REFERRAL_ACTORS),
    "referrals:outbox": only(OK, *REFERRAL_ACTORS),
    # A participation referral starts from a case the subject may change.
    "referrals:new": only(
        OK, *CASE_STAFF_OWN, args=lambda s: {"kind": "participation"}, query=lambda s: {"case": s.case.pk}
    ),
    "referrals:detail": only(OK, *WINDOW_A, PLACE_ACTIVE, args=_pk("referral")),
    # The つなぎシート is the card: whoever sees the card prints it (印刷 / 出力 in the log).
    "referrals:print_sheet": only(OK, *WINDOW_A, PLACE_ACTIVE, args=_pk("referral")),
    "referrals:pdf_sheet": only(OK, *WINDOW_A, PLACE_ACTIVE, args=_pk("referral")),
    "referrals:edit": only(OK, *WINDOW_A, args=_pk("draft_referral")),
    "referrals:send": only(
        NOT_ALLOWED, *REFERRAL_ACTORS, args=_pk("draft_referral"), post=post(*WINDOW_A, data=lambda s: {"version": 1})
    ),
    "referrals:move": only(
        NOT_ALLOWED, *REFERRAL_ACTORS, args=_move, post=post(*WINDOW_A, PLACE_ACTIVE, data=_referral_version)
    ),
    "referrals:stage": only(
        NOT_ALLOWED,
        *REFERRAL_ACTORS,
        args=_pk("referral"),
        post=post(*WINDOW_A, PLACE_ACTIVE, data=lambda s: {"stage": "visit", "on": "2025-06-01"}),
    ),
    "referrals:attendance": only(
        NOT_ALLOWED,
        *REFERRAL_ACTORS,
        args=_pk("referral"),
        post=post(PLACE_ACTIVE, data=lambda s: {"on": "2025-06-01", "status": "present"}),
    ),
    "referrals:note": only(
        NOT_ALLOWED,
        *REFERRAL_ACTORS,
        args=_pk("referral"),
        post=post(*WINDOW_A, PLACE_ACTIVE, data=lambda s: {"text": "権限のない書き込み"}),
    ),
    # つなぎ from the persona operator to window A; only the receiving window opens a case from it.
    "referrals:open_case": only(OK, *WINDOW_A, args=_pk("tsunagi")),
    # --- meetings (A's meeting: chair, coordinator as secretary, caseworker A) -------------------
    "meetings:list": only(OK, *SIGNED_IN),
    "meetings:create": only(OK, *CONVENERS),
    "meetings:detail": only(OK, *MEETING_A, args=_pk("meeting")),
    "meetings:live": only(OK, *MEETING_A, args=_pk("meeting")),
    "meetings:pledge": only(OK, *MEETING_A, args=_pk("meeting")),
    "meetings:participants": only(
        OK,
        *MEETING_A,
        args=_pk("meeting"),
        post=post(
            COORD_OWN,
            CHAIR_OWN,
            data=lambda s: {"action": "remove", "participant": s.meeting.participants.first().pk},
            also={CW_OWN: FORBIDDEN},
        ),
    ),
    "meetings:agenda": only(
        OK,
        CHAIR_OWN,
        also={CW_OWN: FORBIDDEN, COORD_OWN: FORBIDDEN},
        args=_pk("meeting"),
        post=post(
            CHAIR_OWN,
            data=lambda s: {"action": "down", "item": s.item.pk},
            also={CW_OWN: FORBIDDEN, COORD_OWN: FORBIDDEN},
        ),
    ),
    "meetings:next": only(NOT_ALLOWED, *SIGNED_IN, args=_pk("meeting"), post=post(*MEETING_A)),
    "meetings:status": only(
        NOT_ALLOWED, *SIGNED_IN, args=_pk("meeting"), post=post(*MEETING_A, data=lambda s: {"action": "start"})
    ),
    # Date, place and cancelling: the chair and the secretary move a meeting; only the chair cancels it.
    "meetings:schedule": only(
        OK,
        CHAIR_OWN,
        COORD_OWN,
        also={CW_OWN: FORBIDDEN},
        args=_pk("meeting"),
        post=post(
            CHAIR_OWN,
            data=lambda s: {"action": "cancel", "reason": "改ざん"},
            also={CW_OWN: FORBIDDEN, COORD_OWN: FORBIDDEN},
        ),
    ),
    "meetings:minutes": only(OK, *MEETING_A, args=_pk("meeting")),
    "meetings:print_minutes": only(OK, *MEETING_A, args=_pk("meeting")),
    "meetings:pdf_minutes": only(OK, *MEETING_A, args=_pk("meeting")),
    "meetings:item_edit": only(
        OK,
        COORD_OWN,
        CHAIR_OWN,
        also={CW_OWN: FORBIDDEN},
        args=_item,
        post=post(COORD_OWN, CHAIR_OWN, also={CW_OWN: FORBIDDEN}, data=lambda s: {"summary": "権限のない変更"}),
    ),
    # A's action is assigned to window A; its members and the meeting's chair and secretary may close it.
    "meetings:action_done": only(
        NOT_ALLOWED,
        *SIGNED_IN,
        args=lambda s: {"action_pk": s.action.pk},
        post=post(*CASE_STAFF_OWN, data=lambda s: {"note": "権限のない完了"}),
    ),
    "meetings:action_reopen": only(
        NOT_ALLOWED,
        *SIGNED_IN,
        args=lambda s: {"action_pk": s.action.pk},
        post=post(*CASE_STAFF_OWN, data=lambda s: {"note": "権限のない再開"}),
    ),
    "meetings:item": only(OK, *MEETING_A, args=_item),
    "meetings:notes": only(OK, COORD_OWN, CHAIR_OWN, also={CW_OWN: FORBIDDEN}, args=_item),
    "meetings:decide": only(
        NOT_ALLOWED,
        *SIGNED_IN,
        args=_item,
        post=post(
            COORD_OWN, CHAIR_OWN, data=lambda s: {"kind": "info", "text": "権限のない決定"}, also={CW_OWN: FORBIDDEN}
        ),
    ),
    # The lead organization and the case team propose A's case for a meeting; others get 404.
    "meetings:propose": only(
        OK,
        *CASE_STAFF_OWN,
        args=lambda s: {"case_pk": s.case.pk},
        post=post(*CASE_STAFF_OWN, data=lambda s: {"kind": "layered_meeting", "purpose": "information_sharing"}),
    ),
    # A's open proposal was made by window A: window A withdraws it; the rest of the team may not (403).
    "meetings:proposal_withdraw": only(
        NOT_ALLOWED,
        *SIGNED_IN,
        args=lambda s: {"proposal_pk": s.proposal.pk},
        post=post(*WINDOW_A, also={COORD_OWN: FORBIDDEN, CHAIR_OWN: FORBIDDEN}),
    ),
    # --- indicators -----------------------------------------------------------------------------
    # The administrator submits the yearly report: counts and the export, never the drill-down to records.
    "indicators:dashboard": only(OK, *CASE_STAFF, ADMIN),
    "indicators:drill": only(OK, *CASE_STAFF, args=lambda s: {"key": "casework.new_cases"}),
    "indicators:export": only(OK, *CASE_STAFF, ADMIN),
    # 集計を更新する: POST only (a GET is 405 for those who have the dashboard), a refused POST queues nothing.
    "indicators:refresh": only(NOT_ALLOWED, *CASE_STAFF, ADMIN, post=post(*CASE_STAFF, ADMIN)),
}

# URL arguments by parameter name when a line gives none: a case's URL takes the side's case, and so on.
DEFAULT_ARGS = {
    "casework": lambda side: {"pk": side.case.pk},
}
