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

from collections.abc import Callable
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
    Organization,
    Person,
)

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
    from casework.selectors import Viewer

    return user_or_viewer if isinstance(user_or_viewer, Viewer) else Viewer(user_or_viewer)


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


def consent_check(
    *, person: Person, organization: Organization, purpose: str, on: date, case: Case | None = None
) -> ConsentAnswer:
    """Answer whether the organization may receive the person's data for the purpose on that day."""
    if purpose not in ConsentPurpose.values:
        raise ValueError(f"unknown purpose {purpose!r}")
    purpose_label = ConsentPurpose(purpose).label
    entries = (
        Consent.objects.filter(person=person, given_on__lte=on)
        .prefetch_related("organizations")
        .order_by("-given_on", "-id")
    )
    last_problem = _("「%(p)s」についての同意の記録がありません。") % {"p": purpose_label}
    for consent in entries:
        if purpose not in consent.purposes:
            continue
        if consent.scope_kind == Consent.ScopeKind.CASE_TEAM:
            if case is not None and consent.case_id != case.pk:
                continue
            covered = organization.pk in team_on(consent.case_id, on)
        else:
            covered = any(org.pk == organization.pk for org in consent.organizations.all())
        if not covered:
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
                % {"d": consent.given_on.isoformat(), "by": consent.get_given_by_display(), "scope": scope},
            )
        # A later refusal or withdrawal overrides earlier consents; an expired one does not.
        if state == "refused":
            return ConsentAnswer(
                False,
                AccessLog.Basis.NONE,
                consent.pk,
                _("%(d)sに同意を拒否しています。") % {"d": consent.given_on.isoformat()},
            )
        if state == "withdrawn":
            return ConsentAnswer(
                False,
                AccessLog.Basis.NONE,
                consent.pk,
                _("%(d)sに同意が撤回されています。") % {"d": consent.withdrawn_on.isoformat()},
            )
        last_problem = _("同意の有効期限（%(d)s）が過ぎています。") % {"d": consent.valid_until.isoformat()}
    return ConsentAnswer(False, AccessLog.Basis.NONE, None, str(last_problem))


def consent_holds(consent_id: int | None, *, organization_id: int | None = None, on: date | None = None) -> bool:
    """Whether that consent is in force today (and names the organization, when one is given)."""
    if not consent_id:
        return False
    consent = Consent.objects.filter(pk=consent_id).prefetch_related("organizations").first()
    if consent is None or consent.status_on(on or timezone.localdate()) != "given":
        return False
    if organization_id is None:
        return True
    if consent.scope_kind == Consent.ScopeKind.CASE_TEAM:
        return organization_id in team_on(consent.case_id, on or timezone.localdate())
    return any(org.pk == organization_id for org in consent.organizations.all())


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
            person=person, organization=organization, purpose=ConsentPurpose.SHARE_WITH_AGENCIES, on=day, case=case
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


def team_grant_basis(case: Case, organization_id: int, *, on: date | None = None) -> Basis | None:
    """Return the current basis of an organization's case-team grant, or None when it no longer holds."""
    if organization_id == case.lead_organization_id:
        return Basis(AccessLog.Basis.OWN_ORGANIZATION, organization_id=organization_id, is_lead=True)
    organization = Organization.objects.filter(pk=organization_id).first()
    return share_basis(case, organization, on=on) if organization is not None else None


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
            # TODO(disclosure-core): check team_grant_basis(case, org_id) here once team adds record their basis.
            team = Basis(AccessLog.Basis.OWN_ORGANIZATION, organization_id=org_id)
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

    A team grant whose basis lapsed still lists here until the lead or the withdrawal service ends
    it; opening the case checks the basis afresh (case_basis).
    """
    viewer = _viewer(user_or_viewer)
    groups = case_groups(viewer)
    if not groups:
        return Case.objects.none()
    granted = CaseGroupObjectPermission.objects.filter(
        group_id__in=list(groups), permission__codename=VIEW_CASE, permission__content_type__app_label="casework"
    ).values("content_object_id")
    return Case.objects.filter(pk__in=Subquery(granted))


def is_lead_member(user_or_viewer, case: Case) -> bool:
    """Whether the viewer is a caseworker or supervisor of the case's lead organization."""
    return case.lead_organization_id in _viewer(user_or_viewer).organization_ids(*CASE_ROLES)


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
    """Let every app stop what rested on the consent (referrals withdrawn, cards hidden, grants ended)."""
    for handler in CONSENT_LAPSED_HANDLERS:
        handler(consent, by=by)
