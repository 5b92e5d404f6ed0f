"""Writes that cross models in the casework kernel; each one writes the access log."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from casework import audit, disclosure
from casework.accounts.sessions import user_end_sessions
from casework.assessment import CURRENT_VERSION, validate_checklist
from casework.choices import Domain, Role
from casework.disclosure import Basis, ConsentAnswer, consent_check  # noqa: F401  (re-exported for callers)
from casework.models import (
    AccessLog,
    Assessment,
    BreakGlassAccess,
    Case,
    CaseDomain,
    CaseGroupObjectPermission,
    CaseLeadChange,
    CaseNumberSequence,
    CaseState,
    CaseSubject,
    CaseTeamMembership,
    CaseTransition,
    Consent,
    ConsultationCategory,
    ContactRecord,
    Household,
    HouseholdMember,
    IntakeRoute,
    Membership,
    MembershipGrant,
    Organization,
    Person,
    PlanRole,
    SupportPlan,
)
from core.japanese import era_short_prefix, fiscal_year

User = get_user_model()

ADMINISTRATORS_GROUP = "role:administrators"
# What administrators may manage in the admin site: accounts and organizations, never case content.
ADMINISTRATOR_PERMISSIONS = [
    ("auth", "user"),
    ("casework", "organization"),
    ("casework", "membership"),
    ("casework", "membershipgrant"),
    ("axes", "accessattempt"),
    ("axes", "accessfailurelog"),
]


def administrators_group() -> Group:
    """Return the group holding administrators' model permissions, creating it when missing."""
    group, _created = Group.objects.get_or_create(name=ADMINISTRATORS_GROUP)
    wanted = Permission.objects.filter(
        content_type__app_label__in={app for app, _model in ADMINISTRATOR_PERMISSIONS},
        content_type__model__in={model for _app, model in ADMINISTRATOR_PERMISSIONS},
    )
    # set, not add: a permission given to this group by hand (groups, raw permissions) is taken back.
    group.permissions.set(wanted)
    return group


@transaction.atomic
def user_sync_groups(*, user) -> None:
    """Make the user's groups and staff flag match their active memberships."""
    active = list(
        Membership.objects.filter(user=user, is_active=True, organization__is_active=True).select_related(
            "organization"
        )
    )
    wanted = {m.organization.group_id for m in active}
    is_admin = any(m.role == Role.ADMINISTRATOR for m in active)
    org_groups = set(user.groups.filter(organization__isnull=False).values_list("id", flat=True))
    user.groups.remove(*(org_groups - wanted))
    user.groups.add(*(wanted - org_groups))
    admin_group = administrators_group()
    if is_admin:
        user.groups.add(admin_group)
    else:
        user.groups.remove(admin_group)
    if user.is_staff != is_admin and not user.is_superuser:
        User.objects.filter(pk=user.pk).update(is_staff=is_admin)
        user.is_staff = is_admin


def _membership_log_reason(user_id, organization_id, role: str) -> str:
    """Describe a membership change for the log by ids and role code only (no names, no typed text)."""
    return f"user={user_id} organization={organization_id} role={role}"


@transaction.atomic
def membership_add(*, user, organization: Organization, role: str, title: str = "", by=None) -> Membership:
    """Add the user to the organization with a role (reactivating a matching ended membership).

    This is the step after a grant is approved (membership_grant_approve), or the first administrator
    (create_administrator) and the demo; the admin site never calls it for a role needing approval.
    """
    was_active = Membership.objects.filter(user=user, organization=organization, role=role, is_active=True).exists()
    membership, _created = Membership.objects.update_or_create(
        user=user, organization=organization, role=role, defaults={"is_active": True, "title": title}
    )
    user_sync_groups(user=user)
    if was_active:
        return membership
    audit.log_access(
        actor=by,
        action=AccessLog.Action.MEMBERSHIP_GRANT,
        object_type="membership",
        object_id=membership.pk,
        reason=_membership_log_reason(user.pk, organization.pk, role),
    )
    return membership


@transaction.atomic
def membership_end(*, membership: Membership, by=None) -> None:
    """End a membership; the user's access through that organization stops on the next request."""
    membership.is_active = False
    membership.save(update_fields=["is_active"])
    user_sync_groups(user=membership.user)
    # Whatever the user had open through this organization must stop now, not at the next click:
    # sessions end, and their open sockets are told to close after commit.
    user_end_sessions(user=membership.user)
    audit.log_access(
        actor=by,
        action=AccessLog.Action.MEMBERSHIP_END,
        object_type="membership",
        object_id=membership.pk,
        reason=_membership_log_reason(membership.user_id, membership.organization_id, membership.role),
    )


@transaction.atomic
def user_deactivate(*, user, by) -> None:
    """Deactivate an account and end its memberships: sessions and sockets end at once.

    Bringing the person back takes reactivating the account and granting the roles again (two
    administrators), so one administrator cannot restore someone's access to personal data alone.
    """
    _require_administrator(by)
    was_active = User.objects.filter(pk=user.pk, is_active=True).exists()
    user.is_active = False
    user.save()  # sessions.end_sessions_of_deactivated_user ends the sessions and sockets
    if not was_active:
        return
    for membership in Membership.objects.filter(user=user, is_active=True).select_related("user"):
        membership_end(membership=membership, by=by)
    audit.log_access(actor=by, action=AccessLog.Action.ACCOUNT_DEACTIVATE, object_type="user", object_id=user.pk)


# ---------------------------------------------------------------------------
# Granting roles: two administrators for every role that opens personal data or the admin
# ---------------------------------------------------------------------------


def is_active_administrator(user) -> bool:
    """Say whether the user holds an active administrator membership of an active organization."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return Membership.objects.filter(
        user=user, role=Role.ADMINISTRATOR, is_active=True, organization__is_active=True
    ).exists()


def _require_administrator(by) -> None:
    if not is_active_administrator(by):
        raise PermissionDenied(_("システム管理者だけが行えます。"))


def membership_grant_problems(
    *, user, organization: Organization, role: str, deciding: MembershipGrant | None = None
) -> list[str]:
    """Return why the user cannot be given the role in the organization now (empty when they can).

    `deciding` is the pending request being approved, which is not a duplicate of itself.
    """
    problems = []
    if not user.is_active:
        problems.append(_("無効なアカウントには役割を付与できません。"))
    if not organization.is_active:
        problems.append(_("有効でない機関・団体の役割は付与できません。"))
    active = Membership.objects.filter(user=user, is_active=True)
    if active.filter(organization=organization, role=role).exists():
        problems.append(_("この利用者はすでにこの機関・団体でこの役割を持っています。"))
    # Administrators administer and never read: the administrator role is held alone.
    if role == Role.ADMINISTRATOR and active.exclude(role=Role.ADMINISTRATOR).exists():
        problems.append(_("ほかの役割を持つ利用者はシステム管理者になれません（管理者は個人情報を閲覧しません）。"))
    if role != Role.ADMINISTRATOR and active.filter(role=Role.ADMINISTRATOR).exists():
        problems.append(_("システム管理者にはほかの役割を付与できません（管理者は個人情報を閲覧しません）。"))
    pending = MembershipGrant.objects.filter(
        user=user, organization=organization, role=role, status=MembershipGrant.Status.PENDING
    )
    if deciding is not None:
        pending = pending.exclude(pk=deciding.pk)
    if pending.exists():
        problems.append(_("同じ内容の申請がすでに承認待ちです。"))
    return problems


def _grant_log_reason(grant: MembershipGrant) -> str:
    return _membership_log_reason(grant.user_id, grant.organization_id, grant.role) + (
        f" requested_by={grant.requested_by_id}"
    )


@transaction.atomic
def membership_grant_request(
    *, user, organization: Organization, role: str, reason: str, by, title: str = ""
) -> MembershipGrant:
    """Ask for a role for a user; a second administrator approves it (place staff: given at once).

    A request for oneself always waits for another administrator, whatever the role.
    """
    _require_administrator(by)
    if role not in Role.values:
        raise ValidationError({"role": _("役割を選んでください。")})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("申請理由を入力してください。")})
    problems = membership_grant_problems(user=user, organization=organization, role=role)
    if problems:
        raise ValidationError(problems)
    grant = MembershipGrant.objects.create(
        user=user, organization=organization, role=role, title=title, reason=reason, requested_by=by
    )
    audit.log_access(
        actor=by,
        action=AccessLog.Action.GRANT_REQUEST,
        object_type="membershipgrant",
        object_id=grant.pk,
        reason=_grant_log_reason(grant),
    )
    if not Role(role).needs_second_administrator and user.pk != by.pk:
        grant.membership = membership_add(user=user, organization=organization, role=role, title=title, by=by)
        grant.status = MembershipGrant.Status.APPLIED
        grant.decided_at = timezone.now()
        grant.save(update_fields=["membership", "status", "decided_at"])
    return grant


def _pending_grant_for_decision(grant: MembershipGrant) -> MembershipGrant:
    locked = MembershipGrant.objects.select_for_update().select_related("user", "organization").get(pk=grant.pk)
    if locked.status != MembershipGrant.Status.PENDING:
        raise ValidationError(_("この申請はすでに処理されています。"))
    return locked


def _record_decision(locked: MembershipGrant, *, by, note: str, status: str, extra_fields=()) -> None:
    """Save an approval or rejection with who decided and when, and write its access-log row."""
    locked.status = status
    locked.decided_by = by
    locked.decided_at = timezone.now()
    locked.decision_note = (note or "").strip()[:300]
    locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note", *extra_fields])
    approved = status == MembershipGrant.Status.APPROVED
    audit.log_access(
        actor=by,
        action=AccessLog.Action.GRANT_APPROVE if approved else AccessLog.Action.GRANT_REJECT,
        object_type="membershipgrant",
        object_id=locked.pk,
        reason=_grant_log_reason(locked),
    )


def _log_refused_decision(grant: MembershipGrant, by, message: str) -> None:
    """Record a refused approval in its own transaction, so the refusal is kept when the caller rolls back."""
    with transaction.atomic():
        audit.log_access(
            actor=by,
            action=AccessLog.Action.GRANT_APPROVE,
            object_type="membershipgrant",
            object_id=grant.pk,
            reason=_grant_log_reason(grant),
            outcome=AccessLog.Outcome.DENIED,
        )
    raise ValidationError(message)


def membership_grant_approve(*, grant: MembershipGrant, by, note: str = "") -> Membership:
    """Approve another administrator's request: the membership starts now, and the log records both persons."""
    _require_administrator(by)
    if grant.requested_by_id == by.pk:
        _log_refused_decision(
            grant, by, _("自分が申請した権限付与は承認できません。別のシステム管理者が承認してください。")
        )
    if grant.user_id == by.pk:
        _log_refused_decision(grant, by, _("自分自身への権限付与は承認できません。"))
    with transaction.atomic():
        locked = _pending_grant_for_decision(grant)
        problems = membership_grant_problems(
            user=locked.user, organization=locked.organization, role=locked.role, deciding=locked
        )
        if problems:
            raise ValidationError(problems)
        membership = membership_add(
            user=locked.user, organization=locked.organization, role=locked.role, title=locked.title, by=by
        )
        locked.membership = membership
        _record_decision(locked, by=by, note=note, status=MembershipGrant.Status.APPROVED, extra_fields=["membership"])
    grant.refresh_from_db()
    return membership


@transaction.atomic
def membership_grant_reject(*, grant: MembershipGrant, by, note: str = "") -> None:
    """Reject a pending request (or withdraw one's own); nothing is granted."""
    _require_administrator(by)
    locked = _pending_grant_for_decision(grant)
    _record_decision(locked, by=by, note=note, status=MembershipGrant.Status.REJECTED)
    grant.refresh_from_db()


# ---------------------------------------------------------------------------
# Errors the screens turn into messages
# ---------------------------------------------------------------------------


class CaseChanged(Exception):
    """The case moved on since the form was shown: someone else changed it first."""

    message = "このケースは他の職員により更新されました。最新の状態を確認してください。"

    def __str__(self) -> str:
        return self.message


class InvalidTransition(Exception):
    """A state change the case flow does not allow, or one missing its reason; the message is Japanese."""


# ---------------------------------------------------------------------------
# Access-log helpers for services
# ---------------------------------------------------------------------------


def _basis(by, case: Case | None) -> dict:
    """Return the log fields describing why `by` may write under the case."""
    from casework.access import case_access

    access = case_access(by, case) if case is not None else None
    if access is None:
        return {"basis": AccessLog.Basis.OWN_ORGANIZATION if case is None else AccessLog.Basis.NONE}
    return {
        "basis": access.basis,
        "basis_ref": access.basis_ref,
        "organization_id": access.organization_id,
        "auth_strength": access.auth_strength,
    }


def _log(by, *, action: str, obj, person_ids, case: Case | None = None, decided_in=None) -> None:
    # A meeting decision applied by its chair is logged on the meeting's basis (checked by _decision_basis).
    fields = (
        {"basis": decided_in.kind, "basis_ref": decided_in.ref, "organization_id": decided_in.organization_id}
        if decided_in is not None
        else _basis(by, case)
    )
    audit.log_access(
        actor=by,
        action=action,
        object_type=obj._meta.model_name,
        object_id=obj.pk,
        person_ids=person_ids,
        **fields,
    )


def _require_lead(by, case: Case | None, *, decision: Basis | None = None) -> None:
    """Refuse (nothing changed) unless `by` works for the case's lead organization.

    Only the lead organization changes a case's team, state (reopening included), persons,
    household and consents; a meeting decision passes the basis the disclosure module gave it.
    """
    if case is None:
        return
    problem = disclosure.lead_change_refusal(by, case, decision=decision)
    if problem:
        raise ValidationError(problem)


def _decision_basis(by, case: Case, decided_in):
    """Re-check a meeting decision's basis through the disclosure module; refuse when it does not hold now."""
    if decided_in is None:
        return None
    from casework.disclosure import meeting_decision_basis

    basis = meeting_decision_basis(by, case, decided_in.ref)
    if basis is None:
        raise PermissionError(
            _("この会議の決定ではケースを変更できません（主担当機関が参加していないか、根拠が確認できません）。")
        )
    return basis


def _case_person_ids(case: Case) -> list[int]:
    from casework.access import person_ids_for_case

    return person_ids_for_case(case)


# ---------------------------------------------------------------------------
# Persons and households
# ---------------------------------------------------------------------------

PERSON_FIELDS = {
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "alias",
    "preferred_name",
    "is_anonymous",
    "birth_date",
    "gender",
    "postal_code",
    "prefecture",
    "city",
    "street",
    "building",
    "phone",
    "phone_alt",
    "address_secret",
}


@transaction.atomic
def person_create(*, by, case: Case | None = None, **fields) -> Person:
    """Register a person exactly as typed (names are never normalised; furigana becomes katakana)."""
    unknown = set(fields) - PERSON_FIELDS
    if unknown:
        raise TypeError(f"unknown person fields: {sorted(unknown)}")
    person = Person(created_by=by, **fields)
    person.full_clean(exclude=["search_key"])
    person.save()
    _log(by, action=AccessLog.Action.CREATE, obj=person, person_ids=[person.pk], case=case)
    return person


@transaction.atomic
def person_update(*, person: Person, by, case: Case | None = None, **fields) -> Person:
    """Change a person's details."""
    unknown = set(fields) - PERSON_FIELDS
    if unknown:
        raise TypeError(f"unknown person fields: {sorted(unknown)}")
    _require_lead(by, case)
    for name, value in fields.items():
        setattr(person, name, value)
    person.full_clean(exclude=["search_key"])
    person.save()
    _log(by, action=AccessLog.Action.CHANGE, obj=person, person_ids=[person.pk], case=case)
    return person


@transaction.atomic
def household_create(*, name: str, by, tags: list[str] | None = None, note: str = "") -> Household:
    """Create a household with its tags."""
    household = Household(name=name, tags=list(tags or []), note=note, created_by=by)
    household.full_clean()
    household.save()
    _log(by, action=AccessLog.Action.CREATE, obj=household, person_ids=[])
    return household


@transaction.atomic
def household_update(*, household: Household, by, case: Case | None = None, **fields) -> Household:
    """Change a household's name, tags or note."""
    _require_lead(by, case)
    for name in ("name", "tags", "note"):
        if name in fields:
            setattr(household, name, fields[name])
    household.full_clean()
    household.save()
    person_ids = list(household.members.values_list("person_id", flat=True))
    _log(by, action=AccessLog.Action.CHANGE, obj=household, person_ids=person_ids, case=case)
    return household


@transaction.atomic
def household_add_member(
    *,
    household: Household,
    person: Person,
    relationship: str,
    by,
    lives_together: bool = True,
    is_key_person: bool = False,
    relationship_note: str = "",
    since: date | None = None,
    case: Case | None = None,
) -> HouseholdMember:
    """Add a person to a household (a person may be in several households over time)."""
    _require_lead(by, case)
    if HouseholdMember.objects.filter(household=household, person=person, until__isnull=True).exists():
        raise ValidationError(_("この方はすでにこの世帯の世帯員です。"))
    member = HouseholdMember(
        household=household,
        person=person,
        relationship=relationship,
        relationship_note=relationship_note,
        lives_together=lives_together,
        is_key_person=is_key_person,
        since=since,
    )
    member.full_clean()
    member.save()
    _log(by, action=AccessLog.Action.CHANGE, obj=household, person_ids=[person.pk], case=case)
    return member


MEMBER_FIELDS = {"relationship", "relationship_note", "lives_together", "is_key_person", "since"}


@transaction.atomic
def household_member_update(*, member: HouseholdMember, by, case: Case | None = None, **fields) -> HouseholdMember:
    """Change a member's 続柄, 同居/別居, key-person flag or start date (the row keeps its history dates)."""
    unknown = set(fields) - MEMBER_FIELDS
    if unknown:
        raise TypeError(f"unknown member fields: {sorted(unknown)}")
    _require_lead(by, case)
    member = HouseholdMember.objects.select_for_update().get(pk=member.pk)
    for name, value in fields.items():
        setattr(member, name, value)
    if member.since and member.until and member.until < member.since:
        raise ValidationError({"since": _("世帯員となった日は、世帯員でなくなった日より前にしてください。")})
    member.full_clean()
    member.save()
    _log(by, action=AccessLog.Action.CHANGE, obj=member.household, person_ids=[member.person_id], case=case)
    return member


@transaction.atomic
def household_member_end(*, member: HouseholdMember, until: date, by, case: Case | None = None) -> HouseholdMember:
    """Record that a person left the household on a date; the row stays as history, nothing is deleted."""
    _require_lead(by, case)
    member = HouseholdMember.objects.select_for_update().get(pk=member.pk)
    if until is None:
        raise ValidationError({"until": _("世帯員でなくなった日を入力してください。")})
    if member.until is not None:
        raise ValidationError(_("この方はすでに世帯から外れています。"))
    if member.since and until < member.since:
        raise ValidationError({"until": _("世帯員でなくなった日は、世帯員となった日より後にしてください。")})
    if until > timezone.localdate():
        raise ValidationError({"until": _("世帯員でなくなった日に未来の日付は入力できません。")})
    member.until = until
    member.save(update_fields=["until"])
    _log(by, action=AccessLog.Action.CHANGE, obj=member.household, person_ids=[member.person_id], case=case)
    return member


# ---------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------

CASE_PERMISSIONS = ("casework.view_case", "casework.change_case")
CASE_CODENAMES = [perm.split(".", 1)[1] for perm in CASE_PERMISSIONS]


def _allocate_case_number(opened_on: date) -> str:
    """Hand out the next number of the 年度, e.g. R7-000123; the counter row lock serialises callers."""
    fy = fiscal_year(opened_on)
    # get_or_create copes with two first-of-the-year callers; the lock then orders them.
    CaseNumberSequence.objects.get_or_create(fiscal_year=fy)
    counter = CaseNumberSequence.objects.select_for_update().get(fiscal_year=fy)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{era_short_prefix(fy)}-{counter.last:06d}"


def _case_permissions() -> list[Permission]:
    return list(Permission.objects.filter(content_type__app_label="casework", codename__in=CASE_CODENAMES))


def _grant(case: Case, organization: Organization) -> None:
    # The same rows guardian's assign_perm writes, in one INSERT (it took nine statements per grant).
    CaseGroupObjectPermission.objects.bulk_create(
        [
            CaseGroupObjectPermission(permission=perm, group_id=organization.group_id, content_object=case)
            for perm in _case_permissions()
        ],
        ignore_conflicts=True,
    )


def _revoke(case: Case, organization: Organization) -> None:
    CaseGroupObjectPermission.objects.filter(
        content_object=case,
        group_id=organization.group_id,
        permission__content_type__app_label="casework",
        permission__codename__in=CASE_CODENAMES,
    ).delete()


@transaction.atomic
def case_open(
    *,
    household: Household,
    subjects: list[Person],
    domains: list[str],
    categories: list[str],
    main_category: str,
    intake_route: str,
    lead_organization: Organization,
    lead_worker,
    summary: str,
    by,
    opened_on: date | None = None,
) -> Case:
    """Open a case for a household and grant the lead organization access to it."""
    opened_on = opened_on or timezone.localdate()
    errors = {}
    if not subjects:
        errors["subjects"] = _("対象者を一人以上選んでください。")
    if not domains or any(d not in Domain.values for d in domains):
        errors["domains"] = _("分野を一つ以上選んでください。")
    categories = list(dict.fromkeys(categories or []))
    if main_category and main_category not in categories:
        categories.insert(0, main_category)
    if not main_category or any(c not in ConsultationCategory.values for c in categories):
        errors["main_category"] = _("主な相談内容を選んでください。")
    if intake_route not in IntakeRoute.values:
        errors["intake_route"] = _("相談経路を選んでください。")
    if errors:
        raise ValidationError(errors)
    case = Case(
        number=_allocate_case_number(opened_on),
        household=household,
        categories=categories,
        main_category=main_category,
        intake_route=intake_route,
        lead_organization=lead_organization,
        lead_worker=lead_worker,
        summary=summary,
        opened_on=opened_on,
        created_by=by,
    )
    case.full_clean(exclude=["number", "state"])
    case.save()
    CaseSubject.objects.bulk_create([CaseSubject(case=case, person=p) for p in dict.fromkeys(subjects)])
    CaseDomain.objects.bulk_create([CaseDomain(case=case, domain=d) for d in dict.fromkeys(domains)])
    CaseTeamMembership.objects.create(
        case=case,
        organization=lead_organization,
        role_note=_("主担当"),
        added_by=by,
        basis_kind=AccessLog.Basis.OWN_ORGANIZATION,
    )
    _grant(case, lead_organization)
    _log(by, action=AccessLog.Action.CREATE, obj=case, person_ids=_case_person_ids(case), case=case)
    return case


_UNCHANGED = object()


def _check_lead_worker(worker, organization_id: int) -> None:
    """Refuse a lead worker who is not an active caseworker or supervisor of the lead organization."""
    from casework.selectors import lead_worker_candidates

    if worker is not None and not lead_worker_candidates(organization_id).filter(pk=worker.pk).exists():
        raise ValidationError({"lead_worker": _("主担当者は主担当機関の職員から選んでください。")})


@transaction.atomic
def case_update(
    *,
    case: Case,
    by,
    domains: list[str] | None = None,
    categories: list[str] | None = None,
    main_category: str | None = None,
    intake_route: str | None = None,
    lead_worker=_UNCHANGED,
    summary: str | None = None,
    expected_version: int | None = None,
) -> Case:
    """Change a case's domains, categories, route, lead worker or summary; raise CaseChanged when stale.

    The state, number, lead organization and version are not parameters: they change only through
    case_transition, case_change_lead and this function's own version bump.
    """
    locked = Case.objects.select_for_update().select_related("lead_organization").get(pk=case.pk)
    if expected_version is not None and locked.version != expected_version:
        raise CaseChanged()
    _require_lead(by, locked)
    if domains is not None:
        domains = list(dict.fromkeys(domains))
        if not domains or any(d not in Domain.values for d in domains):
            raise ValidationError({"domains": _("分野を一つ以上選んでください。")})
        locked.domain_rows.exclude(domain__in=domains).delete()
        existing = set(locked.domain_rows.values_list("domain", flat=True))
        CaseDomain.objects.bulk_create([CaseDomain(case=locked, domain=d) for d in domains if d not in existing])
    if main_category is not None:
        locked.main_category = main_category
    if categories is not None:
        if any(c not in ConsultationCategory.values for c in categories):
            raise ValidationError({"categories": _("不明な相談内容があります。")})
        locked.categories = list(dict.fromkeys([locked.main_category, *categories]))
    elif main_category is not None and main_category not in (locked.categories or []):
        locked.categories = [main_category, *(locked.categories or [])]
    if intake_route is not None:
        locked.intake_route = intake_route
    if lead_worker is not _UNCHANGED:
        _check_lead_worker(lead_worker, locked.lead_organization_id)
        locked.lead_worker = lead_worker
    if summary is not None:
        locked.summary = summary
    locked.version += 1
    locked.full_clean(exclude=["state"])
    locked.save()
    _log(by, action=AccessLog.Action.CHANGE, obj=locked, person_ids=_case_person_ids(locked), case=locked)
    return locked


LEAD_KINDS = (Organization.Kind.WINDOW, Organization.Kind.COORDINATOR)


@transaction.atomic
def case_change_lead(
    *,
    case: Case,
    organization: Organization,
    lead_worker,
    reason: str,
    by,
    expected_version: int | None = None,
) -> CaseLeadChange:
    """Hand the case's lead to another window or coordinator, keeping the old lead on the team.

    The old lead keeps its grants (it stays on the case team) so nobody loses access silently;
    taking it off the team later is an explicit case_team_remove. The new lead is granted access
    at once (effective on its next request) and a history row records from, to, why, who and when.
    """
    locked = Case.objects.select_for_update().select_related("lead_organization").get(pk=case.pk)
    if expected_version is not None and locked.version != expected_version:
        raise CaseChanged()
    _require_lead(by, locked)
    reason = (reason or "").strip()
    errors = {}
    if not reason:
        errors["reason"] = _("主担当を変更する理由を入力してください。")
    if organization is None or organization.kind not in LEAD_KINDS or not organization.is_active:
        errors["organization"] = _("新しい主担当は相談支援機関または多機関協働事業者から選んでください。")
    elif organization.pk == locked.lead_organization_id:
        errors["organization"] = _("この機関はすでに主担当です。別の機関を選んでください。")
    if errors:
        raise ValidationError(errors)
    _check_lead_worker(lead_worker, organization.pk)
    old_organization, old_worker = locked.lead_organization, locked.lead_worker
    # The outgoing lead stays on the team under a note saying what it was; the incoming one joins as lead.
    # The former lead collected the data itself: its row rests on its own organization.
    CaseTeamMembership.objects.filter(case=locked, organization=old_organization, ended_at__isnull=True).update(
        basis_kind=AccessLog.Basis.OWN_ORGANIZATION, basis_ref=""
    )
    CaseTeamMembership.objects.filter(
        case=locked, organization=old_organization, ended_at__isnull=True, role_note=_("主担当")
    ).update(role_note=_("前主担当"))
    incoming = CaseTeamMembership.objects.filter(case=locked, organization=organization, ended_at__isnull=True).first()
    if incoming is None:
        CaseTeamMembership.objects.create(
            case=locked,
            organization=organization,
            role_note=_("主担当"),
            added_by=by,
            basis_kind=AccessLog.Basis.OWN_ORGANIZATION,
        )
    else:
        incoming.role_note = _("主担当")
        incoming.basis_kind, incoming.basis_ref = AccessLog.Basis.OWN_ORGANIZATION, ""
        incoming.save(update_fields=["role_note", "basis_kind", "basis_ref"])
    _grant(locked, organization)
    _grant(locked, old_organization)
    locked.lead_organization = organization
    locked.lead_worker = lead_worker
    locked.version += 1
    locked.save(update_fields=["lead_organization", "lead_worker", "version", "updated_at"])
    change = CaseLeadChange.objects.create(
        case=locked,
        from_organization=old_organization,
        to_organization=organization,
        from_worker=old_worker,
        to_worker=lead_worker,
        reason=reason,
        by=by,
    )
    _log(by, action=AccessLog.Action.CHANGE, obj=locked, person_ids=_case_person_ids(locked), case=locked)
    case.lead_organization, case.lead_worker, case.version = organization, lead_worker, locked.version
    return change


@transaction.atomic
def case_add_subject(*, case: Case, person: Person, by) -> None:
    """Name one more person as a subject of the case."""
    _require_lead(by, case)
    CaseSubject.objects.get_or_create(case=case, person=person)
    _log(by, action=AccessLog.Action.CHANGE, obj=case, person_ids=[person.pk], case=case)


@transaction.atomic
def case_team_add(
    *, case: Case, organization: Organization, by, note: str = "", basis: Basis | None = None
) -> CaseTeamMembership:
    """Put an organization on the case team on a recorded basis and grant its group access.

    Adding an organization is a share: the lead organization adds it only on a current basis for
    that organization (every subject's consent naming it or the case team, or a recorded 支援会議
    decision), found by the disclosure module and recorded on the team row, which is checked again
    at every read. A referral accepted by its receiver passes the basis the referral was sent on
    (basis); it must still hold. Effective on the next request.
    """
    case = Case.objects.select_related("lead_organization").get(pk=case.pk)
    if basis is None:
        _require_lead(by, case)
        basis = disclosure.share_basis(case, organization)
        if basis is None:
            raise ValidationError(
                _(
                    "%(org)sをケースチームに加える根拠がありません。対象者全員の本人同意（この機関または"
                    "ケースチームへの提供）を記録するか、支援会議の決定を記録してください。"
                )
                % {"org": organization.name}
            )
    elif organization.pk != case.lead_organization_id and (
        disclosure.recorded_basis_holds(case, organization.pk, basis.kind, basis.ref) is None
    ):
        raise ValidationError(_("%(org)sと共有する根拠（同意）が失われています。") % {"org": organization.name})
    membership = CaseTeamMembership.objects.filter(case=case, organization=organization, ended_at__isnull=True).first()
    if membership is None:
        membership = CaseTeamMembership.objects.create(
            case=case,
            organization=organization,
            role_note=note,
            added_by=by,
            basis_kind=basis.kind,
            basis_ref=basis.ref[:60],
        )
    elif organization.pk != case.lead_organization_id:
        membership.basis_kind, membership.basis_ref = basis.kind, basis.ref[:60]
        membership.save(update_fields=["basis_kind", "basis_ref"])
    _grant(case, organization)
    _log(by, action=AccessLog.Action.CHANGE, obj=case, person_ids=[], case=case)
    return membership


@transaction.atomic
def case_team_remove(
    *, case: Case, organization: Organization, by, reason: str = "", undoing_share: bool = False
) -> None:
    """Take an organization off the case team and revoke its access (effective on the next request).

    The lead organization changes the team; an organization may also leave on its own, and a
    share that put it there may be taken back by whoever made it (undoing_share: a referral
    cancelled after acceptance). The lead itself is never removed.
    """
    case = Case.objects.select_related("lead_organization").get(pk=case.pk)
    if organization.pk == case.lead_organization_id:
        raise ValidationError(_("主担当機関はケースチームから外せません。"))
    leaving = organization.pk in disclosure.case_organization_ids(by)
    if not (undoing_share or leaving):
        _require_lead(by, case)
    # Log before revoking so the remover's own basis is still known if they leave with it.
    _log(by, action=AccessLog.Action.CHANGE, obj=case, person_ids=[], case=case)
    _end_team_rows(case, organization, by=by, reason=reason)


def _end_team_rows(case: Case, organization: Organization, *, by, reason: str) -> None:
    CaseTeamMembership.objects.filter(case=case, organization=organization, ended_at__isnull=True).update(
        ended_at=timezone.now(), ended_by=by, end_reason=(reason or "")[:200]
    )
    _revoke(case, organization)


def case_team_end_lapsed(consent: Consent, *, by) -> None:
    """End the team grants that rested on a consent just withdrawn (the lead keeps its own).

    Registered first in disclosure.CONSENT_LAPSED_HANDLERS; runs inside the withdrawal's transaction.
    """
    reason = _("同意の撤回（同意 #%(id)s）により共有の根拠がなくなりました。") % {"id": consent.pk}
    for row in disclosure.team_grants_lapsed(consent):
        _log(by, action=AccessLog.Action.CHANGE, obj=row.case, person_ids=[], case=row.case)
        _end_team_rows(row.case, row.organization, by=by, reason=reason)


# Which @transition method leads to each target state.
TRANSITION_METHODS = {
    CaseState.ASSESSMENT: ("start_assessment", "reopen"),
    CaseState.PLANNING: ("start_planning", "revise_plan"),
    CaseState.IN_SUPPORT: ("start_support",),
    CaseState.CLOSED: ("close",),
    CaseState.SUSPENDED: ("suspend",),
}
REASON_REQUIRED = {CaseState.CLOSED, CaseState.SUSPENDED}


@transaction.atomic
def case_transition(
    *,
    case: Case,
    to_state: str,
    by,
    reason: str = "",
    expected_version: int | None = None,
    decided_by_label: str = "",
    decided_by_ref: str = "",
    decided_in=None,
) -> Case:
    """Move the case to another state, logging who, when and why; raise CaseChanged when stale.

    `decided_in` (a disclosure Basis of a meeting decision) lets a meeting's chair apply its decision;
    it is checked again here. Otherwise only the lead organization moves its case (reopening included).
    """
    locked = Case.objects.select_for_update().select_related("lead_organization").get(pk=case.pk)
    decided_in = _decision_basis(by, locked, decided_in)
    if expected_version is not None and locked.version != expected_version:
        raise CaseChanged()
    _require_lead(by, locked, decision=decided_in)
    from_state = locked.state
    label = dict(CaseState.choices)
    if to_state not in label:
        raise InvalidTransition(_("不明な状態です: %(s)s") % {"s": to_state})
    allowed = {t.target: t.name for t in locked.get_available_state_transitions()}
    if to_state not in allowed:
        raise InvalidTransition(
            _("「%(from)s」から「%(to)s」へは変更できません。") % {"from": label[from_state], "to": label[to_state]}
        )
    reason = (reason or "").strip()
    if to_state in REASON_REQUIRED and not reason:
        raise InvalidTransition(_("「%(to)s」にするには理由が必要です。") % {"to": label[to_state]})
    getattr(locked, allowed[to_state])()
    today = timezone.localdate()
    if to_state in REASON_REQUIRED:
        locked.closed_on = today
    elif from_state in REASON_REQUIRED:
        locked.closed_on = None
    locked.version += 1
    locked.save()
    CaseTransition.objects.create(
        case=locked,
        from_state=from_state,
        to_state=to_state,
        by=by,
        reason=reason,
        decided_by_label=decided_by_label,
        decided_by_ref=decided_by_ref,
    )
    _log(
        by,
        action=AccessLog.Action.TRANSITION,
        obj=locked,
        person_ids=_case_person_ids(locked),
        case=locked,
        decided_in=decided_in,
    )
    return locked


# ---------------------------------------------------------------------------
# Consent
# ---------------------------------------------------------------------------


@transaction.atomic
def consent_record(
    *,
    person: Person,
    given_on: date,
    method: str,
    explained_by,
    scope_kind: str,
    purposes: list[str],
    by,
    case: Case | None = None,
    organizations: list[Organization] = (),
    given_by: str = Consent.GivenBy.SELF,
    giver_name: str = "",
    document_version: str = "",
    valid_until: date | None = None,
    status: str = Consent.Status.GIVEN,
    scanned_form=None,
) -> Consent:
    """Add an entry to the person's consent ledger (given or refused)."""
    _require_lead(by, case)
    if status not in {Consent.Status.GIVEN, Consent.Status.REFUSED}:
        raise ValidationError({"status": _("同意または不同意を選んでください。")})
    consent = Consent(
        person=person,
        case=case,
        given_by=given_by,
        giver_name=giver_name,
        given_on=given_on,
        method=method,
        explained_by=explained_by,
        document_version=document_version,
        scope_kind=scope_kind,
        purposes=list(dict.fromkeys(purposes)),
        valid_until=valid_until,
        status=status,
        recorded_by=by,
    )
    if scanned_form:
        consent.scanned_form = scanned_form
    consent.full_clean()
    if scope_kind == Consent.ScopeKind.NAMED and not organizations and status == Consent.Status.GIVEN:
        raise ValidationError({"organizations": _("提供先の機関を一つ以上選んでください。")})
    consent.save()
    if organizations:
        consent.organizations.set(organizations)
    _log(by, action=AccessLog.Action.CREATE, obj=consent, person_ids=[person.pk], case=case)
    return consent


@transaction.atomic
def consent_withdraw(*, consent: Consent, withdrawn_on: date, by, note: str = "", case: Case | None = None) -> Consent:
    """Record a withdrawal: sharing stops from that date; what was shared before stays on record.

    Only the lead organization of the case that recorded the consent withdraws it. Inside the same
    transaction every app stops what rested on it (disclosure.consent_lapsed): team grants end,
    referrals not yet accepted are withdrawn.
    """
    consent = Consent.objects.select_for_update().get(pk=consent.pk)
    if case is not None and consent.case_id is not None and consent.case_id != case.pk:
        raise ValidationError(_("この同意は別のケースで記録されたものです。"))
    _require_lead(by, case or consent.case)
    if consent.status != Consent.Status.GIVEN:
        raise ValidationError(_("この同意はすでに撤回されているか、不同意です。"))
    if withdrawn_on < consent.given_on:
        raise ValidationError({"withdrawn_on": _("撤回日は同意日より後にしてください。")})
    consent.status = Consent.Status.WITHDRAWN
    consent.withdrawn_on = withdrawn_on
    consent.withdrawal_recorded_by = by
    consent.withdrawal_note = note
    consent.save()
    disclosure.consent_lapsed(consent, by=by)
    _log(by, action=AccessLog.Action.CHANGE, obj=consent, person_ids=[consent.person_id], case=case or consent.case)
    disclosure.consent_lapsed(consent, by=by)
    return consent


# ---------------------------------------------------------------------------
# Assessments, plans, contact records
# ---------------------------------------------------------------------------


@transaction.atomic
def assessment_record(
    *,
    case: Case,
    checklist: dict,
    narrative: str,
    assessed_on: date,
    by,
    schema_version: int = CURRENT_VERSION,
) -> Assessment:
    """Record an intake assessment against a versioned checklist schema."""
    validate_checklist(checklist, schema_version)
    assessment = Assessment(
        case=case,
        schema_version=schema_version,
        checklist=checklist,
        narrative=narrative,
        assessed_on=assessed_on,
        by=by,
    )
    assessment.full_clean()
    assessment.save()
    _log(by, action=AccessLog.Action.CREATE, obj=assessment, person_ids=_case_person_ids(case), case=case)
    return assessment


PLAN_FIELDS = {
    "goals",
    "period_start",
    "period_end",
    "next_review_on",
    "includes_participation_support",
    "includes_outreach",
}


@transaction.atomic
def plan_create(*, case: Case, goals: str, by, roles: list[dict] = (), **fields) -> SupportPlan:
    """Draft a new version of the case's support plan, optionally with roles per organization."""
    unknown = set(fields) - PLAN_FIELDS
    if unknown:
        raise TypeError(f"unknown plan fields: {sorted(unknown)}")
    Case.objects.select_for_update().filter(pk=case.pk).first()
    last = case.plans.order_by("-version").values_list("version", flat=True).first() or 0
    plan = SupportPlan(case=case, version=last + 1, goals=goals, created_by=by, **fields)
    plan.full_clean()
    plan.save()
    for role in roles:
        PlanRole.objects.create(plan=plan, **role)
    _log(by, action=AccessLog.Action.CREATE, obj=plan, person_ids=_case_person_ids(case), case=case)
    return plan


def _editable(plan: SupportPlan) -> None:
    if plan.status not in {SupportPlan.Status.DRAFT, SupportPlan.Status.PROPOSED}:
        raise ValidationError(_("承認済み・終了したプランは変更できません。新しい版を作成してください。"))


@transaction.atomic
def plan_update(*, plan: SupportPlan, by, **fields) -> SupportPlan:
    """Change a draft or proposed plan."""
    unknown = set(fields) - PLAN_FIELDS
    if unknown:
        raise TypeError(f"unknown plan fields: {sorted(unknown)}")
    _editable(plan)
    for name, value in fields.items():
        setattr(plan, name, value)
    plan.full_clean()
    plan.save()
    _log(by, action=AccessLog.Action.CHANGE, obj=plan, person_ids=_case_person_ids(plan.case), case=plan.case)
    return plan


@transaction.atomic
def plan_role_add(
    *,
    plan: SupportPlan,
    organization: Organization,
    role: str,
    by,
    actions: str = "",
    period_start: date | None = None,
    period_end: date | None = None,
) -> PlanRole:
    """Give an organization a role in a draft or proposed plan."""
    _editable(plan)
    row = PlanRole(
        plan=plan,
        organization=organization,
        role=role,
        actions=actions,
        period_start=period_start,
        period_end=period_end,
    )
    row.full_clean()
    row.save()
    _log(by, action=AccessLog.Action.CHANGE, obj=plan, person_ids=[], case=plan.case)
    return row


@transaction.atomic
def plan_role_remove(*, role: PlanRole, by) -> None:
    """Remove a role from a draft or proposed plan."""
    _editable(role.plan)
    _log(by, action=AccessLog.Action.CHANGE, obj=role.plan, person_ids=[], case=role.plan.case)
    role.delete()


@transaction.atomic
def plan_propose(*, plan: SupportPlan, by) -> SupportPlan:
    """Mark a draft plan as proposed to the case conference."""
    if plan.status != SupportPlan.Status.DRAFT:
        raise ValidationError(_("作成中のプランだけを提案できます。"))
    plan.status = SupportPlan.Status.PROPOSED
    plan.save(update_fields=["status"])
    _log(by, action=AccessLog.Action.CHANGE, obj=plan, person_ids=[], case=plan.case)
    return plan


@transaction.atomic
def plan_approve(
    *,
    plan: SupportPlan,
    by,
    decided_by_label: str = "",
    decided_by_ref: str = "",
    approved_on: date | None = None,
    decided_in=None,
) -> SupportPlan:
    """Approve a plan: supersede the previous one and, from planning, move the case to in support.

    The lead organization approves (team members propose); a meeting passes its decision's basis (decided_in).
    """
    case = Case.objects.select_for_update().select_related("lead_organization").get(pk=plan.case_id)
    decided_in = _decision_basis(by, case, decided_in)
    _require_lead(by, case, decision=decided_in)
    plan = SupportPlan.objects.select_for_update().get(pk=plan.pk)
    if plan.status not in {SupportPlan.Status.DRAFT, SupportPlan.Status.PROPOSED}:
        raise ValidationError(_("このプランはすでに承認済みか終了しています。"))
    SupportPlan.objects.filter(case=case, status=SupportPlan.Status.APPROVED).update(
        status=SupportPlan.Status.SUPERSEDED
    )
    plan.status = SupportPlan.Status.APPROVED
    plan.approved_on = approved_on or timezone.localdate()
    plan.approved_by_label = decided_by_label
    plan.approved_by_ref = decided_by_ref
    plan.save()
    Case.objects.filter(pk=case.pk).update(next_review_on=plan.next_review_on, version=case.version + 1)
    _log(
        by,
        action=AccessLog.Action.CHANGE,
        obj=plan,
        person_ids=_case_person_ids(case),
        case=case,
        decided_in=decided_in,
    )
    if case.state == CaseState.PLANNING:
        case.version += 1
        case_transition(
            case=case,
            to_state=CaseState.IN_SUPPORT,
            by=by,
            reason=_("支援プラン第%(v)s版の承認") % {"v": plan.version},
            decided_by_label=decided_by_label,
            decided_by_ref=decided_by_ref,
            decided_in=decided_in,
        )
    return plan


@transaction.atomic
def plan_set_next_review(*, case: Case, next_review_on: date, by, decided_in=None) -> SupportPlan | None:
    """Set the next review date on the case and its approved plan (if any); returns that plan."""
    if next_review_on is None:
        raise ValidationError({"next_review_on": _("次回見直し日を入力してください。")})
    case = Case.objects.select_for_update().get(pk=case.pk)
    decided_in = _decision_basis(by, case, decided_in)
    if case.state in {CaseState.CLOSED, CaseState.SUSPENDED}:
        raise ValidationError(_("終結・中断中のケースには次回見直し日を設定できません。"))
    if case.opened_on and next_review_on < case.opened_on:
        raise ValidationError({"next_review_on": _("次回見直し日は受付日より後の日付にしてください。")})
    plan = SupportPlan.objects.select_for_update().filter(case=case, status=SupportPlan.Status.APPROVED).first()
    if plan is not None:
        plan.next_review_on = next_review_on
        plan.save(update_fields=["next_review_on"])
    Case.objects.filter(pk=case.pk).update(next_review_on=next_review_on, version=case.version + 1)
    _log(by, action=AccessLog.Action.CHANGE, obj=plan or case, person_ids=[], case=case, decided_in=decided_in)
    return plan


@transaction.atomic
def contact_record_create(
    *,
    case: Case,
    occurred_at: datetime,
    kind: str,
    summary: str,
    by,
    organization: Organization | None = None,
    person: Person | None = None,
    is_outreach: bool = False,
    sensitive: bool = False,
) -> ContactRecord:
    """Record a contact, visit or failed attempt (不在・拒否 count as outreach when marked)."""
    if organization is None:
        from casework.access import case_access

        access = case_access(by, case)
        org_id = access.organization_id if access and access.organization_id else case.lead_organization_id
        organization = Organization.objects.get(pk=org_id)
    record = ContactRecord(
        case=case,
        person=person,
        occurred_at=occurred_at,
        kind=kind,
        is_outreach=is_outreach,
        summary=summary,
        sensitive=sensitive,
        recorded_by=by,
        organization=organization,
    )
    record.full_clean()
    record.save()
    person_ids = [person.pk] if person else _case_person_ids(case)
    _log(by, action=AccessLog.Action.CREATE, obj=record, person_ids=person_ids, case=case)
    return record


# ---------------------------------------------------------------------------
# Break-glass
# ---------------------------------------------------------------------------

_ONE_CHARACTER_REPEATED = re.compile(r"(.)\1*", re.DOTALL)
BREAK_GLASS_MIN_REASON = 10


def break_glass_reason_problem(reason: str) -> str | None:
    """Return a Japanese message when the reason is not a real sentence, else None."""
    text = "".join((reason or "").split())
    if len(text) < BREAK_GLASS_MIN_REASON:
        return _("理由は%(n)s文字以上で具体的に書いてください。") % {"n": BREAK_GLASS_MIN_REASON}
    if _ONE_CHARACTER_REPEATED.fullmatch(text) or len(set(text)) < 4:
        return _("理由を文章で具体的に書いてください（同じ文字の繰り返しは受け付けません）。")
    return None


@transaction.atomic
def break_glass_open(*, user, case: Case, reason: str) -> BreakGlassAccess:
    """Open a time-limited, read-only emergency access to a case outside the user's caseload."""
    problem = break_glass_reason_problem(reason)
    if problem:
        raise ValidationError({"reason": problem})
    now = timezone.now()
    access = BreakGlassAccess.objects.create(
        user=user,
        case=case,
        reason=reason.strip(),
        started_at=now,
        expires_at=now + timedelta(minutes=settings.BREAK_GLASS_MINUTES),
    )
    audit.log_access(
        actor=user,
        action=AccessLog.Action.VIEW,
        object_type="breakglassaccess",
        object_id=access.pk,
        person_ids=_case_person_ids(case),
        basis=AccessLog.Basis.BREAK_GLASS,
        basis_ref=access.pk,
        reason=reason.strip(),
        auth_strength=AccessLog.AuthStrength.BREAK_GLASS,
    )
    return access


@transaction.atomic
def break_glass_review(*, access: BreakGlassAccess, by, note: str) -> BreakGlassAccess:
    """Record an auditor's review of one break-glass use."""
    access = BreakGlassAccess.objects.select_for_update().get(pk=access.pk)
    access.reviewed_at = timezone.now()
    access.reviewed_by = by
    access.review_note = note
    access.save(update_fields=["reviewed_at", "reviewed_by", "review_note"])
    audit.log_access(
        actor=by,
        action=AccessLog.Action.CHANGE,
        object_type="breakglassaccess",
        object_id=access.pk,
        basis=AccessLog.Basis.AUDIT,
        basis_ref=access.pk,
    )
    return access
