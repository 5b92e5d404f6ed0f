"""Accounts and organizations: memberships, the administrators group, deactivation, and two-person role grants."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from casework import audit
from casework.accounts.sessions import user_end_sessions
from casework.choices import Role
from casework.models import (
    AccessLog,
    Membership,
    MembershipEvent,
    MembershipGrant,
    Organization,
)
from casework.viewers import viewer_of

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
    """Make the user's groups and staff flag match the memberships that hold today."""
    active = list(Membership.objects.active().filter(user=user).select_related("organization"))
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


def _record_event(membership: Membership, kind: str, *, on, reason: str = "", by=None) -> MembershipEvent:
    return MembershipEvent.objects.create(
        membership=membership,
        kind=kind,
        effective_on=on,
        reason=(reason or "").strip()[:300],
        by=by if getattr(by, "is_authenticated", False) else None,
    )


@transaction.atomic
def membership_add(
    *, user, organization: Organization, role: str, title: str = "", by=None, starts_on=None, reason: str = ""
) -> Membership:
    """Add the user to the organization with a role from starts_on (today when not given).

    An ended membership of the same role is started again (its history continues). This is the step
    after a grant is approved (membership_grant_approve), or the first administrator
    (create_administrator) and the demo; the admin site never calls it for a role needing approval.
    """
    today = timezone.localdate()
    starts_on = starts_on or today
    current = Membership.objects.select_for_update().filter(user=user, organization=organization, role=role).first()
    if current is not None and current.is_active and current.ends_on is None:
        return current
    membership, _created = Membership.objects.update_or_create(
        user=user,
        organization=organization,
        role=role,
        defaults={"is_active": True, "title": title, "starts_on": starts_on, "ends_on": None, "end_reason": ""},
    )
    _record_event(membership, MembershipEvent.Kind.STARTED, on=starts_on, reason=reason, by=by)
    user_sync_groups(user=user)
    audit.log_access(
        actor=by,
        action=AccessLog.Action.MEMBERSHIP_GRANT,
        object_type="membership",
        object_id=membership.pk,
        reason=_membership_log_reason(user.pk, organization.pk, role)
        + (f" starts_on={starts_on.isoformat()}" if starts_on > today else ""),
    )
    return membership


@transaction.atomic
def membership_end(*, membership: Membership, by=None, on=None, reason: str = "") -> None:
    """End a membership today (or schedule its end for a later day, 終了日 = the first day without it).

    Ending today: the user's access through that organization stops on the next request, their
    sessions end and their open sockets are told to close after commit. A later date takes effect
    by itself on that day (every read checks the dates); apply_membership_dates then closes the
    sessions and tidies the groups.
    """
    today = timezone.localdate()
    on = on or today
    locked = Membership.objects.select_for_update().get(pk=membership.pk)
    if not locked.is_active:
        return
    reason = (reason or "").strip()[:300]
    if on > today:
        locked.ends_on = on
        locked.end_reason = reason
        locked.save(update_fields=["ends_on", "end_reason"])
        _record_event(locked, MembershipEvent.Kind.END_SCHEDULED, on=on, reason=reason, by=by)
        audit.log_access(
            actor=by,
            action=AccessLog.Action.MEMBERSHIP_END,
            object_type="membership",
            object_id=locked.pk,
            reason=_membership_log_reason(locked.user_id, locked.organization_id, locked.role)
            + f" ends_on={on.isoformat()}",
        )
        membership.ends_on, membership.end_reason = locked.ends_on, locked.end_reason
        return
    locked.is_active = False
    if locked.ends_on is None or locked.ends_on > on:
        locked.ends_on = on
    if reason or not locked.end_reason:
        locked.end_reason = reason
    locked.save(update_fields=["is_active", "ends_on", "end_reason"])
    membership.is_active, membership.ends_on, membership.end_reason = False, locked.ends_on, locked.end_reason
    _record_event(locked, MembershipEvent.Kind.ENDED, on=locked.ends_on, reason=reason or locked.end_reason, by=by)
    user_sync_groups(user=locked.user)
    # Whatever the user had open through this organization must stop now, not at the next click:
    # sessions end, and their open sockets are told to close after commit.
    user_end_sessions(user=locked.user)
    audit.log_access(
        actor=by,
        action=AccessLog.Action.MEMBERSHIP_END,
        object_type="membership",
        object_id=locked.pk,
        reason=_membership_log_reason(locked.user_id, locked.organization_id, locked.role),
    )


@transaction.atomic
def membership_end_cancel(*, membership: Membership, by, reason: str = "") -> None:
    """Withdraw a scheduled end date that has not come yet (a transfer called off)."""
    _require_manager(by, organization_id=membership.organization_id, role=membership.role)
    locked = Membership.objects.select_for_update().get(pk=membership.pk)
    if not locked.is_active or locked.ends_on is None or locked.ends_on <= timezone.localdate():
        raise ValidationError(_("取り消せる終了予定がありません。"))
    cancelled_on = locked.ends_on
    locked.ends_on = None
    locked.end_reason = ""
    locked.save(update_fields=["ends_on", "end_reason"])
    _record_event(locked, MembershipEvent.Kind.END_CANCELLED, on=cancelled_on, reason=reason, by=by)
    audit.log_access(
        actor=by,
        action=AccessLog.Action.MEMBERSHIP_GRANT,
        object_type="membership",
        object_id=locked.pk,
        reason=_membership_log_reason(locked.user_id, locked.organization_id, locked.role) + " end_cancelled",
    )
    membership.ends_on, membership.end_reason = None, ""


def membership_schedule_end(*, membership: Membership, on, reason: str, by) -> None:
    """An administrator (or the organization's own, for the roles it gives) sets a membership's end date with a reason."""
    _require_manager(by, organization_id=membership.organization_id, role=membership.role)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("終了の理由を入力してください。")})
    if on is None:
        raise ValidationError({"ends_on": _("終了日を入力してください。")})
    if on < timezone.localdate():
        raise ValidationError({"ends_on": _("終了日に過去の日付は指定できません。")})
    if membership.starts_on is not None and on <= membership.starts_on:
        raise ValidationError({"ends_on": _("終了日は開始日より後の日付にしてください。")})
    if not membership.is_active:
        raise ValidationError(_("この所属はすでに終了しています。"))
    membership_end(membership=membership, by=by, on=on, reason=reason)


def memberships_apply_dates(*, on=None) -> tuple[int, int]:
    """Finish what the calendar decided: end memberships whose end date has come, start those due.

    Access already follows the dates at every read; this closes the sessions and sockets of users
    whose membership ended and keeps their groups in step. Idempotent (run daily and after midnight).
    Returns (memberships ended, users whose dated memberships were checked).
    """
    day = on or timezone.localdate()
    ended = 0
    due = Membership.objects.filter(is_active=True, ends_on__lte=day).select_related("user").order_by("id")
    for membership in due:
        membership_end(membership=membership, on=membership.ends_on, reason=membership.end_reason)
        ended += 1
    # Memberships whose start date has come: the account's groups (the admin site) follow them.
    starting = Membership.objects.active(on=day).filter(starts_on__isnull=False).values_list("user_id", flat=True)
    user_ids = sorted(set(starting))
    for user in User.objects.filter(pk__in=user_ids):
        user_sync_groups(user=user)
    return ended, len(user_ids)


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
    return Membership.objects.active().filter(user=user, role=Role.ADMINISTRATOR).exists()


def _require_administrator(by) -> None:
    if not is_active_administrator(by):
        raise PermissionDenied(_("システム管理者だけが行えます。"))


# What an organization's own administrator (組織管理者) may give within its organization. The city-wide
# roles (監査担当, システム管理者) and the 組織管理者 role itself are the system administrators' to give.
ORG_ADMIN_GRANTABLE_ROLES = (Role.CASEWORKER, Role.SUPERVISOR, Role.PLACE_STAFF)


def org_admin_organization_ids(user) -> set[int]:
    """The organization the user administers in the hat worn now (empty unless that hat is 組織管理者)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return set()
    return viewer_of(user).organization_ids(Role.ORG_ADMIN)


def may_manage(by, *, organization_id: int, role: str) -> bool:
    """Say whether `by` may grant, approve, end or re-date this role in this organization.

    System administrators manage every organization; an organization's own administrator manages
    only its organization, only the roles of ORG_ADMIN_GRANTABLE_ROLES, and never the staff flags.
    """
    if is_active_administrator(by):
        return True
    return role in ORG_ADMIN_GRANTABLE_ROLES and organization_id in org_admin_organization_ids(by)


def _require_manager(by, *, organization_id: int, role: str) -> None:
    if not may_manage(by, organization_id=organization_id, role=role):
        raise PermissionDenied(_("この機関・団体のこの役割を管理する権限がありません。"))


def _within_reach(by, user, organization: Organization) -> bool:
    """Whether the account is one the manager may give a role to in this organization.

    System administrators reach every account. An organization's own administrator reaches only the
    accounts of its organization (holding, having held or having been asked a role there), never a
    superuser, a staff account or a system administrator.
    """
    if is_active_administrator(by):
        return True
    if user is None or getattr(user, "pk", None) is None or user.is_superuser or user.is_staff:
        return False
    if Membership.objects.filter(user=user, role=Role.ADMINISTRATOR, is_active=True).exists():
        return False
    return (
        Membership.objects.filter(user=user, organization=organization).exists()
        or MembershipGrant.objects.filter(user=user, organization=organization).exists()
    )


def _refuse_manager(by, *, action: str, object_type: str, object_id, reason: str) -> None:
    """Log an attempt beyond one's reach (in its own transaction, so it is kept) and refuse it."""
    with transaction.atomic():
        audit.log_access(
            actor=by,
            action=action,
            object_type=object_type,
            object_id=object_id,
            reason=reason,
            outcome=AccessLog.Outcome.DENIED,
        )
    raise PermissionDenied(_("この機関・団体のこの役割を管理する権限がありません。"))


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
    # Held now or starting later, and not yet ended.
    active = Membership.objects.filter(user=user, is_active=True).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gt=timezone.localdate())
    )
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


def membership_grant_request(
    *, user, organization: Organization, role: str, reason: str, by, title: str = "", starts_on=None
) -> MembershipGrant:
    """Ask for a role for a user; a second administrator approves it (place staff: given at once).

    A request for oneself always waits for another administrator, whatever the role. An
    organization's own administrator may ask only for its organization and ORG_ADMIN_GRANTABLE_ROLES;
    anything else is refused and the attempt logged.
    """
    if role not in Role.values:
        raise ValidationError({"role": _("役割を選んでください。")})
    if not may_manage(by, organization_id=organization.pk, role=role) or not _within_reach(by, user, organization):
        _refuse_manager(
            by,
            action=AccessLog.Action.GRANT_REQUEST,
            object_type="user",
            object_id=getattr(user, "pk", None),
            reason=_membership_log_reason(getattr(user, "pk", None), organization.pk, role),
        )
    with transaction.atomic():
        return _membership_grant_request(
            user=user, organization=organization, role=role, reason=reason, by=by, title=title, starts_on=starts_on
        )


def _membership_grant_request(
    *, user, organization: Organization, role: str, reason: str, by, title: str, starts_on
) -> MembershipGrant:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("申請理由を入力してください。")})
    if starts_on is not None and starts_on < timezone.localdate():
        raise ValidationError({"starts_on": _("開始日に過去の日付は指定できません。")})
    problems = membership_grant_problems(user=user, organization=organization, role=role)
    if problems:
        raise ValidationError(problems)
    grant = MembershipGrant.objects.create(
        user=user,
        organization=organization,
        role=role,
        title=title,
        reason=reason,
        requested_by=by,
        starts_on=starts_on,
    )
    audit.log_access(
        actor=by,
        action=AccessLog.Action.GRANT_REQUEST,
        object_type="membershipgrant",
        object_id=grant.pk,
        reason=_grant_log_reason(grant),
    )
    if not Role(role).needs_second_administrator and user.pk != by.pk:
        grant.membership = membership_add(
            user=user, organization=organization, role=role, title=title, by=by, starts_on=starts_on, reason=reason
        )
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
    """Approve another administrator's request: the membership starts (now or on its start date); both persons logged."""
    if not may_manage(by, organization_id=grant.organization_id, role=grant.role):
        _refuse_manager(
            by,
            action=AccessLog.Action.GRANT_APPROVE,
            object_type="membershipgrant",
            object_id=grant.pk,
            reason=_grant_log_reason(grant),
        )
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
        # A start date already passed while the request waited: the role starts on approval.
        starts_on = max(locked.starts_on or timezone.localdate(), timezone.localdate())
        membership = membership_add(
            user=locked.user,
            organization=locked.organization,
            role=locked.role,
            title=locked.title,
            by=by,
            starts_on=starts_on,
            reason=locked.reason,
        )
        locked.membership = membership
        _record_decision(locked, by=by, note=note, status=MembershipGrant.Status.APPROVED, extra_fields=["membership"])
    grant.refresh_from_db()
    return membership


@transaction.atomic
def membership_grant_reject(*, grant: MembershipGrant, by, note: str = "") -> None:
    """Reject a pending request (or withdraw one's own); nothing is granted."""
    _require_manager(by, organization_id=grant.organization_id, role=grant.role)
    locked = _pending_grant_for_decision(grant)
    _record_decision(locked, by=by, note=note, status=MembershipGrant.Status.REJECTED)
    grant.refresh_from_db()


# ---------------------------------------------------------------------------
# An organization's own administrator (組織管理者): accounts for its organization
# ---------------------------------------------------------------------------


def account_create(
    *,
    username: str,
    last_name: str,
    first_name: str = "",
    email: str = "",
    password: str,
    organization: Organization,
    role: str,
    title: str = "",
    reason: str,
    starts_on=None,
    by,
) -> MembershipGrant:
    """Create a staff account and ask for its first role in the organization, in one transaction.

    The account has no access until the role is granted: place staff at once, case roles after a
    second person approves (the two-person rule of membership_grant_request). The account is never
    staff or superuser; an organization's own administrator may create accounts for its own
    organization and ORG_ADMIN_GRANTABLE_ROLES only.
    """
    if role not in Role.values:
        raise ValidationError({"role": _("役割を選んでください。")})
    if not may_manage(by, organization_id=organization.pk, role=role):
        _refuse_manager(
            by,
            action=AccessLog.Action.ACCOUNT_CREATE,
            object_type="organization",
            object_id=organization.pk,
            reason=f"organization={organization.pk} role={role}",
        )
    username = (username or "").strip()
    last_name, first_name = (last_name or "").strip(), (first_name or "").strip()
    errors: dict[str, list[str]] = {}
    if not username:
        errors.setdefault("username", []).append(_("ログインIDを入力してください。"))
    else:
        try:
            User.username_validator(username)
        except ValidationError:
            errors.setdefault("username", []).append(
                _("ログインIDには半角の英数字と @ . + - _ だけが使えます（150文字まで）。")
            )
        if len(username) > 150:
            errors.setdefault("username", []).append(_("ログインIDは150文字までです。"))
        if User.objects.filter(username__iexact=username).exists():
            errors.setdefault("username", []).append(_("このログインIDはすでに使われています。"))
    if not last_name:
        errors.setdefault("last_name", []).append(_("姓を入力してください。"))
    if not (reason or "").strip():
        errors.setdefault("reason", []).append(_("申請理由を入力してください。"))
    candidate = User(username=username, last_name=last_name, first_name=first_name, email=email)
    try:
        validate_password(password or "", candidate)
    except ValidationError as error:
        errors.setdefault("password", []).extend(error.messages)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        user = User.objects.create_user(
            username=username,
            email=email or "",
            password=password,
            last_name=last_name,
            first_name=first_name,
            is_staff=False,
            is_superuser=False,
        )
        audit.log_access(
            actor=by,
            action=AccessLog.Action.ACCOUNT_CREATE,
            object_type="user",
            object_id=user.pk,
            reason=f"organization={organization.pk} role={role}",
        )
        # The account is new and of this organization: the scope was checked above.
        return _membership_grant_request(
            user=user,
            organization=organization,
            role=role,
            reason=reason,
            by=by,
            title=title,
            starts_on=starts_on,
        )
