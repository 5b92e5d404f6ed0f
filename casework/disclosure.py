"""The one place that decides who may see or change which person's data, and on what legal basis.

Every access helper, selector, service, panel, export and socket check asks this module (directly
or through the querysets it builds); nothing else re-implements the rule. The bases are checked
at the moment of reading: a withdrawn or expired consent, an ended membership or a team change
takes effect on the next request. The rules, as a privacy officer reads them, are in SECURITY.md.

Apps above casework (places, referrals, meetings) contribute facts only this module asks about,
through the small registries at the end (for example "is there a recorded 支援会議 decision to
share this case with that organization?"), so the rule stays here and the layering holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from django.db import models
from django.db.models import QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casework.choices import Role
from casework.models import (
    AccessLog,
    BreakGlassAccess,
    Case,
    CaseGroupObjectPermission,
    CaseSubject,
    CaseTeamMembership,
    Consent,
    ConsentPurpose,
    HouseholdMember,
    Organization,
    Person,
)
from casework.viewers import Viewer, viewer_of
from core.japanese import format_wareki

# Only these roles work cases; an administrator or auditor membership grants no case content.
CASE_ROLES = (Role.CASEWORKER, Role.SUPERVISOR)
VIEW_CASE = "view_case"
CHANGE_CASE = "change_case"


class Purpose(models.TextChoices):
    """What the viewer wants to do with the data; each purpose has its own rule."""

    VIEW_CASE = "view_case", gettext_lazy("ケースを見る")
    # Team members write their own records: contact records, their plan roles, proposals.
    CHANGE_CASE = "change_case", gettext_lazy("自機関の記録を書く")
    # Team, state (reopening included), persons, household, consents, lead: the lead organization only.
    LEAD_CHANGE = "lead_change", gettext_lazy("ケースを変更する（主担当機関）")
    REFERRAL_CARD = "referral_card", gettext_lazy("紹介カードを見る")
    MEETING_ITEM = "meeting_item", gettext_lazy("会議の議題を見る")
    ACTION_ITEM = "action_item", gettext_lazy("対応事項を見る")
    RECEIVE_SHARE = "receive_share", gettext_lazy("情報提供を受ける")


@dataclass(frozen=True)
class Basis:
    """Why a viewer may see (or change) a person's data now: the kind of basis and its reference."""

    kind: str
    ref: str = ""
    organization_id: int | None = None
    can_change: bool = False
    is_lead: bool = False
    auth_strength: str | None = None
    break_glass: BreakGlassAccess | None = None

    # The names the access log and older callers use.
    @property
    def basis(self) -> str:
        return self.kind

    @property
    def basis_ref(self) -> str:
        return self.ref

    @property
    def read_only(self) -> bool:
        return not self.can_change


# The name callers used before the module existed; the same object.
CaseAccess = Basis


def _viewer(user_or_viewer):
    # A user signed in on this request acts in the hat chosen in the header (viewer_of).
    return user_or_viewer if isinstance(user_or_viewer, Viewer) else viewer_of(user_or_viewer)


def case_groups(viewer) -> dict[int, tuple[str, int]]:
    """Return {group id: (role, organization id)} for the viewer's case-working memberships."""
    groups: dict[int, tuple[str, int]] = {}
    for m in viewer.memberships:
        if m.role in CASE_ROLES:
            # A caseworker membership wins over a supervisor one in the same organization.
            if m.organization.group_id not in groups or m.role == Role.CASEWORKER:
                groups[m.organization.group_id] = (m.role, m.organization_id)
    return groups


def active_break_glass(user, case_id: int) -> BreakGlassAccess | None:
    """Return the user's break-glass access to the case that is running now, if any."""
    now = timezone.now()
    return (
        BreakGlassAccess.objects.filter(user=user, case_id=case_id, started_at__lte=now, expires_at__gt=now)
        .order_by("-expires_at")
        .first()
    )


# ---------------------------------------------------------------------------
# Consent
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentAnswer:
    """Whether data may go to an organization for a purpose on a day, and on what basis."""

    allowed: bool
    basis: str
    consent_id: int | None
    reason: str


def team_on(case_id: int, day: date) -> set[int]:
    """Return the organizations on the case team on that day (the lead has a team row too)."""
    rows = CaseTeamMembership.objects.filter(case_id=case_id)
    return {row.organization_id for row in rows if row.active_on(day)}


def _consent_scope_label(consent: Consent) -> str:
    if consent.scope_kind == Consent.ScopeKind.CASE_TEAM:
        return _("ケースチーム（%(case)s）") % {"case": consent.case.number}
    return "・".join(org.name for org in consent.organizations.all()) or _("機関の指定なし")


def consent_check(
    *,
    person: Person,
    organization: Organization,
    purpose: str,
    on: date,
    case: Case | None = None,
    joining_team: bool = False,
) -> ConsentAnswer:
    """Answer whether the organization may receive the person's data for the purpose on that day.

    A consent scoped to the case team covers the organizations on that case's team; with
    joining_team it also covers an organization the lead is adding to that team now.
    """
    if purpose not in ConsentPurpose.values:
        raise ValueError(f"unknown purpose {purpose!r}")
    entries = (
        Consent.objects.filter(person=person, given_on__lte=on)
        .prefetch_related("organizations")
        .order_by("-given_on", "-id")
    )
    return _consent_answer(
        entries, organization=organization, purpose=purpose, on=on, case=case, joining_team=joining_team, team=team_on
    )


def _consent_answer(entries, *, organization, purpose, on, case, joining_team, team) -> ConsentAnswer:
    """consent_check's rule over one person's consents given by `on`, newest first; team(case_id, on) -> org ids."""
    purpose_label = ConsentPurpose(purpose).label
    last_problem = _("「%(p)s」についての同意の記録がありません。") % {"p": purpose_label}
    # A consent that exists but misses the purpose or the organization is named as such: "no consent on
    # record" sent workers looking for a paper that was there all along.
    near_miss = None
    for consent in entries:
        if purpose not in consent.purposes:
            if near_miss is None and consent.status_on(on) == "given":
                near_miss = _(
                    "%(d)sの本人同意はありますが、目的に「%(p)s」が含まれていません（同意の目的: %(purposes)s）。"
                ) % {
                    "d": format_wareki(consent.given_on),
                    "p": purpose_label,
                    "purposes": "・".join(consent.purpose_labels),
                }
            continue
        if consent.scope_kind == Consent.ScopeKind.CASE_TEAM:
            if case is not None and consent.case_id != case.pk:
                continue
            covered = (joining_team and case is not None) or organization.pk in team(consent.case_id, on)
        else:
            covered = any(org.pk == organization.pk for org in consent.organizations.all())
        if not covered:
            if consent.status_on(on) == "given":
                near_miss = _("%(d)sの本人同意はありますが、その範囲（%(scope)s）に「%(org)s」が含まれていません。") % {
                    "d": format_wareki(consent.given_on),
                    "scope": _consent_scope_label(consent),
                    "org": organization.name,
                }
            continue
        state = consent.status_on(on)
        if state == "given":
            scope = (
                _("ケースチーム（%(case)s）") % {"case": consent.case.number}
                if consent.scope_kind == Consent.ScopeKind.CASE_TEAM
                else _("指定機関")
            )
            return ConsentAnswer(
                True,
                AccessLog.Basis.CONSENT,
                consent.pk,
                _("%(d)sの本人同意（%(by)s・%(scope)s）に基づきます。")
                % {"d": format_wareki(consent.given_on), "by": consent.get_given_by_display(), "scope": scope},
            )
        # A later refusal or withdrawal overrides earlier consents; an expired one does not.
        if state == "refused":
            return ConsentAnswer(
                False,
                AccessLog.Basis.NONE,
                consent.pk,
                _("%(d)sに同意を拒否しています。") % {"d": format_wareki(consent.given_on)},
            )
        if state == "withdrawn":
            return ConsentAnswer(
                False,
                AccessLog.Basis.NONE,
                consent.pk,
                _("%(d)sに同意が撤回されています。") % {"d": format_wareki(consent.withdrawn_on)},
            )
        last_problem = _("同意の有効期限（%(d)s）が過ぎています。") % {"d": format_wareki(consent.valid_until)}
        near_miss = None
    return ConsentAnswer(False, AccessLog.Basis.NONE, None, str(near_miss or last_problem))


def _consent_holds(consent: Consent, organization_id: int | None, day: date, purpose: str | None, team=team_on) -> bool:
    if consent.status_on(day) != "given":
        return False
    # A narrowed consent no longer covers a purpose it dropped.
    if purpose is not None and purpose not in (consent.purposes or []):
        return False
    if organization_id is None:
        return True
    if consent.scope_kind == Consent.ScopeKind.CASE_TEAM:
        return organization_id in team(consent.case_id, day)
    return any(org.pk == organization_id for org in consent.organizations.all())


def consent_holds(
    consent_id: int | None, *, organization_id: int | None = None, on: date | None = None, purpose: str | None = None
) -> bool:
    """Whether that consent is in force today (naming the organization and purpose, when given)."""
    if not consent_id:
        return False
    consent = Consent.objects.filter(pk=consent_id).prefetch_related("organizations").first()
    if consent is None:
        return False
    return _consent_holds(consent, organization_id, on or timezone.localdate(), purpose)


def consents_holding(
    wanted: Iterable[tuple[int, int | None, str | None]], *, on: date | None = None
) -> set[tuple[int, int | None, str | None]]:
    """Return those (consent id, organization id, purpose) triples whose consent holds (consent_holds, batched)."""
    wanted = {w for w in wanted if w[0]}
    if not wanted:
        return set()
    day = on or timezone.localdate()
    consents = Consent.objects.filter(pk__in={w[0] for w in wanted}).prefetch_related("organizations").in_bulk()
    # The teams case-team consents scope to, read once for all of them (not once per referral).
    team_cases = {c.case_id for c in consents.values() if c.scope_kind == Consent.ScopeKind.CASE_TEAM and c.case_id}
    teams: dict[int, set[int]] = {case_id: set() for case_id in team_cases}
    for row in CaseTeamMembership.objects.filter(case_id__in=team_cases):
        if row.active_on(day):
            teams[row.case_id].add(row.organization_id)

    def team(case_id, _day):
        return teams.get(case_id, set())

    return {w for w in wanted if w[0] in consents and _consent_holds(consents[w[0]], w[1], day, w[2], team=team)}


# ---------------------------------------------------------------------------
# Sharing a case with an organization (team add, referral, meeting)
# ---------------------------------------------------------------------------


def support_meeting_decision(case: Case, organization: Organization, *, on: date | None = None) -> str:
    """Return the reference of a recorded 支援会議 decision to share the case with the organization, or ''."""
    day = on or timezone.localdate()
    for provider in SUPPORT_MEETING_DECISIONS:
        ref = provider(case, organization, day)
        if ref:
            return ref
    return ""


def share_basis(case: Case, organization: Organization, *, on: date | None = None) -> Basis | None:
    """Return the basis on which the organization may receive the case's data now, or None.

    The lead organization holds the case. Anyone else needs every subject's consent to share
    with agencies naming it (or the case team), or a recorded 支援会議 decision in this system.
    """
    day = on or timezone.localdate()
    if organization.pk == case.lead_organization_id:
        return Basis(AccessLog.Basis.OWN_ORGANIZATION, organization_id=organization.pk, is_lead=True)
    subjects = [row.person for row in CaseSubject.objects.filter(case=case).select_related("person").order_by("id")]
    consent_ids = []
    for person in subjects:
        answer = consent_check(
            person=person,
            organization=organization,
            purpose=ConsentPurpose.SHARE_WITH_AGENCIES,
            on=day,
            case=case,
            joining_team=True,
        )
        if not answer.allowed:
            break
        consent_ids.append(answer.consent_id)
    else:
        if subjects:
            return Basis(AccessLog.Basis.CONSENT, ",".join(map(str, consent_ids))[:60], organization_id=organization.pk)
    ref = support_meeting_decision(case, organization, on=day)
    if ref:
        return Basis(AccessLog.Basis.SUPPORT_MEETING, ref[:60], organization_id=organization.pk)
    return None


FORMER_LEAD = "former_lead"


def recorded_basis_holds(
    case: Case, organization_id: int, kind: str, ref: str, *, on: date | None = None
) -> Basis | None:
    """Return the basis a team grant was recorded on when it still holds on that day, else None.

    A consent basis holds while every consent it names is in force and still covers the
    organization (withdrawn, expired or narrowed: it ends). A 支援会議 basis holds while its
    decision reference is on record. own_org is the lead's (or a former lead's, which collected the
    data itself and keeps its own records after handing the case over).
    """
    day = on or timezone.localdate()
    if kind == AccessLog.Basis.OWN_ORGANIZATION:
        return Basis(AccessLog.Basis.OWN_ORGANIZATION, FORMER_LEAD, organization_id=organization_id)
    if kind == AccessLog.Basis.CONSENT:
        ids = [int(part) for part in ref.split(",") if part.strip().isdigit()]
        if ids and all(consent_holds(cid, organization_id=organization_id, on=day) for cid in ids):
            return Basis(AccessLog.Basis.CONSENT, ref, organization_id=organization_id)
        return None
    if kind == AccessLog.Basis.SUPPORT_MEETING:
        # A recorded 支援会議 decision does not lapse like a consent; the lead ends it by removing
        # the organization. It was checked against the meeting records when the grant was made.
        return Basis(AccessLog.Basis.SUPPORT_MEETING, ref, organization_id=organization_id) if ref else None
    return None


def team_grant_basis(case: Case, organization_id: int, *, on: date | None = None) -> Basis | None:
    """Return the current basis of an organization's case-team grant, or None when it no longer holds.

    The lead organization holds its own case. Any other organization holds a grant only through a
    current team row whose recorded basis still holds; a row written before bases were recorded
    (blank kind) falls back to the basis the organization would have if added now (share_basis).
    """
    if organization_id == case.lead_organization_id:
        return Basis(AccessLog.Basis.OWN_ORGANIZATION, organization_id=organization_id, is_lead=True)
    row = (
        CaseTeamMembership.objects.filter(case_id=case.pk, organization_id=organization_id, ended_at__isnull=True)
        .order_by("-added_at", "-id")
        .first()
    )
    if row is None:
        return None
    if row.basis_kind:
        return recorded_basis_holds(case, organization_id, row.basis_kind, row.basis_ref, on=on)
    return share_basis(case, row.organization, on=on)


# ---------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------


def case_basis(user_or_viewer, case: Case, purpose: str = Purpose.VIEW_CASE) -> Basis | None:
    """Return how the viewer may use the case for the purpose, or None (checked afresh each call)."""
    viewer = _viewer(user_or_viewer)
    groups = case_groups(viewer)
    if groups:
        grants = list(
            CaseGroupObjectPermission.objects.filter(content_object=case, group_id__in=groups).values_list(
                "group_id", "permission__codename"
            )
        )
        viewing = [gid for gid, codename in grants if codename == VIEW_CASE]
        changing = {gid for gid, codename in grants if codename == CHANGE_CASE}
        # The lead organization first, then caseworker before supervisor: supervision is recorded
        # only when it is the only reason.
        viewing.sort(key=lambda gid: (groups[gid][1] != case.lead_organization_id, groups[gid][0] != Role.CASEWORKER))
        for gid in viewing:
            role, org_id = groups[gid]
            # A non-lead organization's grant counts only while the basis it was added on holds.
            team = team_grant_basis(case, org_id)
            if team is None:
                continue
            is_lead = org_id == case.lead_organization_id
            if role == Role.SUPERVISOR and team.kind == AccessLog.Basis.OWN_ORGANIZATION:
                kind, ref = AccessLog.Basis.SUPERVISION, ""
            else:
                kind, ref = team.kind, team.ref
            basis = Basis(kind, ref, organization_id=org_id, can_change=gid in changing, is_lead=is_lead)
            if purpose == Purpose.LEAD_CHANGE and not (is_lead and basis.can_change):
                return None
            if purpose == Purpose.CHANGE_CASE and not basis.can_change:
                return None
            return basis
    if viewer.works_cases and purpose == Purpose.VIEW_CASE:
        grant = active_break_glass(viewer.user, case.pk)
        if grant is not None:
            return Basis(
                AccessLog.Basis.BREAK_GLASS,
                str(grant.pk),
                can_change=False,
                auth_strength=AccessLog.AuthStrength.BREAK_GLASS,
                break_glass=grant,
            )
    return None


def cases_for_user(user_or_viewer) -> QuerySet[Case]:
    """Return the cases in the viewer's caseload (lead or team grants; no break-glass).

    A team grant whose basis lapsed without an event (a consent that expired) still lists here;
    opening the case checks the basis afresh (case_basis). A withdrawal ends the grants at once.
    """
    viewer = _viewer(user_or_viewer)
    groups = case_groups(viewer)
    if not groups:
        return Case.objects.none()
    granted = CaseGroupObjectPermission.objects.filter(
        group_id__in=list(groups), permission__codename=VIEW_CASE, permission__content_type__app_label="casework"
    ).values("content_object_id")
    return Case.objects.filter(pk__in=Subquery(granted))


def lead_change_refusal(by, case: Case, *, decision: Basis | None = None) -> str:
    """Return why `by` may not change the case's team, state, persons or consents ('' when allowed).

    Only the lead organization does that. A meeting decision applies to the case through the
    services with the basis this module gave for the meeting item (decision), not the chair's own.
    """
    if decision is not None and decision.kind in DECISION_BASES:
        return ""
    if case_basis(by, case, Purpose.LEAD_CHANGE) is not None:
        return ""
    return _("この変更は主担当機関（%(org)s）の職員だけが行えます。") % {"org": case.lead_organization.name}


# The bases on which a meeting's decision may change a case (a 支援会議, or a 重層的支援会議 on consent).
DECISION_BASES = (AccessLog.Basis.SUPPORT_MEETING, AccessLog.Basis.CONSENT)


def case_organization_ids(user_or_viewer) -> set[int]:
    """Return the organizations the viewer works cases for (active caseworker or supervisor memberships)."""
    return _viewer(user_or_viewer).organization_ids(*CASE_ROLES)


def is_lead_member(user_or_viewer, case: Case) -> bool:
    """Whether the viewer is a caseworker or supervisor of the case's lead organization."""
    return case.lead_organization_id in _viewer(user_or_viewer).organization_ids(*CASE_ROLES)


# ---------------------------------------------------------------------------
# Persons: a person's data is reached only through the cases that show it (名寄せ)
# ---------------------------------------------------------------------------


def person_case_ids(person_ids: Iterable[int]) -> dict[int, set[int]]:
    """Return {person id: the cases that show the person}: as a subject, or as a member of the case's household.

    The same persons a case screen shows (access.person_ids_for_case), read from the person's side.
    """
    found: dict[int, set[int]] = {pid: set() for pid in person_ids}
    for pid, case_id in CaseSubject.objects.filter(person_id__in=list(found)).values_list("person_id", "case_id"):
        found[pid].add(case_id)
    rows = (
        HouseholdMember.objects.filter(person_id__in=list(found), household__cases__isnull=False)
        .values_list("person_id", "household__cases")
        .distinct()
    )
    for pid, case_id in rows:
        found[pid].add(case_id)
    return found


def person_basis(user_or_viewer, person_id: int, purpose: str = Purpose.VIEW_CASE) -> Basis | None:
    """Return the viewer's basis for one case that shows the person (their lead cases first), or None.

    Break-glass does not count: it opens one case to read, not the person across cases.
    """
    viewer = _viewer(user_or_viewer)
    case_ids = person_case_ids([person_id])[person_id]
    if not case_ids:
        return None
    cases = cases_for_user(viewer).filter(pk__in=case_ids).select_related("lead_organization")
    leads = case_organization_ids(viewer)
    for case in sorted(cases, key=lambda c: (c.lead_organization_id not in leads, c.pk)):
        basis = case_basis(viewer, case, purpose)
        if basis is not None and basis.kind != AccessLog.Basis.BREAK_GLASS:
            return basis
    return None


def persons_within_reach(user_or_viewer) -> QuerySet[Person]:
    """Return the persons shown by the cases of the viewer's caseload, a first filter for searches.

    A team grant whose basis lapsed without an event still lists here (as in cases_for_user):
    callers confirm each person they show with person_basis.
    """
    cases = cases_for_user(user_or_viewer)
    subjects = CaseSubject.objects.filter(case__in=cases).values("person_id")
    members = HouseholdMember.objects.filter(household__cases__in=cases).values("person_id")
    return Person.objects.filter(models.Q(pk__in=Subquery(subjects)) | models.Q(pk__in=Subquery(members)))


def person_lead_organization_ids(person_ids: Iterable[int]) -> set[int]:
    """Return the lead organizations of every case that shows any of the persons."""
    case_ids = set().union(*person_case_ids(person_ids).values())
    return set(Case.objects.filter(pk__in=case_ids).values_list("lead_organization_id", flat=True))


def organization_reaches_person(organization_id: int, person_id: int, *, on: date | None = None) -> bool:
    """Whether the organization holds a current basis (lead or team grant) for a case that shows the person."""
    case_ids = person_case_ids([person_id])[person_id]
    for case in Case.objects.filter(pk__in=case_ids):
        if team_grant_basis(case, organization_id, on=on) is not None:
            return True
    return False


# ---------------------------------------------------------------------------
# Case conferences: what a meeting may show of a case, and when its decisions may change the case
# ---------------------------------------------------------------------------

# The two kinds of case conference (meetings.MeetingKind has the same values).
SUPPORT_MEETING = "support_meeting"
LAYERED_MEETING = "layered_meeting"


@dataclass
class MeetingBasis:
    """What a meeting may show of one case now, and on what legal basis (no names when not allowed)."""

    allowed: bool
    basis: str
    basis_ref: str
    person_ids: list[int]
    persons: list
    problems: list[str]


def layered_consents(case: Case, on: date) -> tuple[list[int], list[str], list]:
    """Check every subject's consent to 重層的支援会議 on that day: (consent ids, problems, persons)."""
    consent_ids, problems, persons = [], [], []
    rows = CaseSubject.objects.filter(case=case).select_related("person").order_by("id")
    for index, row in enumerate(rows, start=1):
        answer = consent_check(
            person=row.person,
            organization=case.lead_organization,
            purpose=ConsentPurpose.LAYERED_MEETING,
            on=on,
            case=case,
        )
        if answer.allowed:
            consent_ids.append(answer.consent_id)
            persons.append(row.person)
        else:
            # No name: without consent even who the person is must not be shown.
            problems.append(_("対象者%(n)s: %(reason)s") % {"n": index, "reason": answer.reason})
    if not persons and not problems:
        problems.append(_("このケースには対象者が登録されていません。"))
    return consent_ids, problems, persons


def meeting_case_basis(case: Case, *, kind: str, meeting_ref: str, on: date | None = None) -> MeetingBasis:
    """Return the basis for a meeting of that kind to show the case now.

    支援会議 (art. 106-6): the meeting itself (its participants' pledges are checked by the meetings
    app before anything opens). 重層的支援会議: every subject's consent to discussion there, checked
    again at every open, so a withdrawal or expiry hides the item at once.
    """
    if kind == SUPPORT_MEETING:
        persons = [row.person for row in CaseSubject.objects.filter(case_id=case.pk).select_related("person")]
        return MeetingBasis(True, AccessLog.Basis.SUPPORT_MEETING, meeting_ref, [p.pk for p in persons], persons, [])
    ids, problems, persons = layered_consents(case, on or timezone.localdate())
    if problems:
        return MeetingBasis(False, AccessLog.Basis.NONE, "", [], [], problems)
    ref = ",".join(str(i) for i in ids)[:60]
    return MeetingBasis(True, AccessLog.Basis.CONSENT, ref, [p.pk for p in persons], persons, [])


def meeting_case_bases(cases: Iterable[Case], *, kind: str, meeting_ref: str, on: date | None = None) -> dict:
    """Return {case id: meeting_case_basis(case, …)} for many cases (an agenda) in two or three queries, whatever their number.

    The same rule as meeting_case_basis, read in bulk: the subjects (with whether the lead is on the
    team), their consents and, for consents naming organizations, those organizations.
    """
    cases = list(cases)
    day = on or timezone.localdate()
    subjects: dict[int, list[Person]] = {case.pk: [] for case in cases}
    # A case-team consent counts only for its own case and here only for the lead organization, so
    # what the team rows must answer is whether the lead is on its case's team that day.
    lead_on_team = CaseTeamMembership.objects.filter(
        case_id=models.OuterRef("case_id"),
        organization_id=models.OuterRef("case__lead_organization_id"),
        added_at__date__lte=day,
    ).filter(models.Q(ended_at__isnull=True) | models.Q(ended_at__date__gt=day))
    teams: dict[int, set[int]] = {}
    rows = (
        CaseSubject.objects.filter(case_id__in=list(subjects))
        .select_related("person", "case")
        .annotate(lead_on_team=models.Exists(lead_on_team))
        .order_by("id")
    )
    for row in rows:
        subjects[row.case_id].append(row.person)
        if row.lead_on_team:
            teams[row.case_id] = {row.case.lead_organization_id}
    if kind == SUPPORT_MEETING:
        return {
            case.pk: MeetingBasis(
                True,
                AccessLog.Basis.SUPPORT_MEETING,
                meeting_ref,
                [p.pk for p in subjects[case.pk]],
                subjects[case.pk],
                [],
            )
            for case in cases
        }
    person_ids = {p.pk for persons in subjects.values() for p in persons}
    consents: dict[int, list[Consent]] = {}
    rows = list(
        Consent.objects.filter(person_id__in=person_ids, given_on__lte=day)
        .select_related("case")
        .order_by("-given_on", "-id")
    )
    # Only consents naming organizations need them read.
    models.prefetch_related_objects([c for c in rows if c.scope_kind != Consent.ScopeKind.CASE_TEAM], "organizations")
    for consent in rows:
        consents.setdefault(consent.person_id, []).append(consent)

    def team(case_id, _day):
        return teams.get(case_id, set())

    result = {}
    for case in cases:
        ids, problems, persons = [], [], []
        for index, person in enumerate(subjects[case.pk], start=1):
            answer = _consent_answer(
                consents.get(person.pk, []),
                organization=case.lead_organization,
                purpose=ConsentPurpose.LAYERED_MEETING,
                on=day,
                case=case,
                joining_team=False,
                team=team,
            )
            if answer.allowed:
                ids.append(answer.consent_id)
                persons.append(person)
            else:
                problems.append(_("対象者%(n)s: %(reason)s") % {"n": index, "reason": answer.reason})
        if not persons and not problems:
            problems.append(_("このケースには対象者が登録されていません。"))
        if problems:
            result[case.pk] = MeetingBasis(False, AccessLog.Basis.NONE, "", [], [], problems)
        else:
            ref = ",".join(str(i) for i in ids)[:60]
            result[case.pk] = MeetingBasis(True, AccessLog.Basis.CONSENT, ref, [p.pk for p in persons], persons, [])
    return result


def meeting_decision_basis(by, case: Case, ref: str, *, on: date | None = None) -> Basis | None:
    """Return the basis on which a decision of the meeting `ref` ("meeting:12"), taken by `by`, changes the case now.

    The meetings app answers (through MEETING_DECISION_BASES): the case is on that meeting's agenda,
    its lead organization takes part, `by` runs the meeting with its material open, and the meeting's
    basis for the case holds today (支援会議, or every subject's consent for a 重層的支援会議).
    """
    if not ref:
        return None
    day = on or timezone.localdate()
    for provider in MEETING_DECISION_BASES:
        basis = provider(case, ref, by, day)
        if basis is not None:
            return basis
    return None


def state_change_basis(by, case: Case, *, decided_in: Basis | None = None) -> Basis | None:
    """Return the basis on which `by` changes the case's state, plan approval or review date, or None.

    The lead organization may; anyone else only by applying a meeting decision (`decided_in`, from
    meeting_decision_basis), which is checked again here rather than trusted.
    """
    if decided_in is not None:
        return meeting_decision_basis(by, case, decided_in.ref)
    return case_basis(by, case, Purpose.LEAD_CHANGE)


# ---------------------------------------------------------------------------
# What upper apps contribute (filled in their AppConfig.ready)
# ---------------------------------------------------------------------------

# (case, organization, day) -> reference of a recorded 支援会議 decision to share, or "".
SUPPORT_MEETING_DECISIONS: list[Callable[[Case, Organization, date], str]] = []
# (case, "meeting:N", by, day) -> the Basis of that meeting's decision to change the case now, or None.
MEETING_DECISION_BASES: list[Callable] = []
# Called inside the transaction that withdrew or narrowed a consent: (consent, by) -> None.
CONSENT_LAPSED_HANDLERS: list[Callable] = []


def consent_lapsed(consent: Consent, *, by) -> None:
    """Let every app stop what rested on the consent (referrals withdrawn, cards hidden, grants ended).

    casework's own handler (registered first, in CaseworkConfig.ready) ends the case-team grants
    resting on it; the lead keeps its own.
    """
    for handler in CONSENT_LAPSED_HANDLERS:
        handler(consent, by=by)


def team_grants_lapsed(consent: Consent, *, on: date | None = None) -> list[CaseTeamMembership]:
    """Return the current non-lead team rows whose basis no longer holds after the consent changed."""
    case_ids = set(CaseSubject.objects.filter(person_id=consent.person_id).values_list("case_id", flat=True))
    if consent.case_id:
        case_ids.add(consent.case_id)
    rows = (
        CaseTeamMembership.objects.filter(case_id__in=case_ids, ended_at__isnull=True)
        .exclude(organization_id=models.F("case__lead_organization_id"))
        .select_related("case", "organization")
        .order_by("case_id", "id")
    )
    return [row for row in rows if team_grant_basis(row.case, row.organization_id, on=on) is None]
