"""Writes of the second factor: enrolment with fresh recovery codes, and the record of a verified sign-in."""

from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from casework.audit import log_access
from casework.models import AccessLog

RECOVERY_CODE_COUNT = 10


def _new_recovery_codes(user) -> list[str]:
    """Replace the user's recovery codes with a fresh set and return them (shown once)."""
    device, _created = StaticDevice.objects.get_or_create(user=user, name="recovery", defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def second_factor_enrol(*, user, device: TOTPDevice) -> list[str]:
    """Make the verified pending device the user's only authenticator; return new recovery codes (shown once)."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=True).delete()
        device.name, device.confirmed = "authenticator", True
        device.save()
        codes = _new_recovery_codes(user)
        log_access(
            actor=user,
            action=AccessLog.Action.CHANGE,
            object_type="auth.second_factor",
            object_id=user.pk,
            reason="second factor enrolled",
        )
    return codes


def second_factor_verified(*, user) -> None:
    """Record that the user passed the second factor in this session."""
    log_access(
        actor=user,
        action=AccessLog.Action.VIEW,
        object_type="auth.second_factor",
        object_id=user.pk,
        auth_strength=AccessLog.AuthStrength.SECOND_FACTOR,
        reason="second factor verified",
    )


def active_membership_switch(*, viewer, membership_id, by):
    """Make another of the user's own memberships the one they act in (kept in the session), and log it.

    Only a membership that holds today and belongs to the user; the row names the new organization
    and role, and the one left behind.
    """
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    from casework.viewers import ACTIVE_MEMBERSHIP_KEY

    target = next((m for m in viewer.all_memberships if str(m.pk) == str(membership_id)), None)
    if target is None or viewer.session is None:
        raise ValidationError(_("その所属・役割には切り替えられません。"))
    previous = viewer.active_membership
    with transaction.atomic():
        log_access(
            actor=by,
            action=AccessLog.Action.MEMBERSHIP_SWITCH,
            object_type="membership",
            object_id=target.pk,
            organization_id=target.organization_id,
            role=target.role,
            reason=f"from=membership:{previous.pk if previous else ''}",
        )
    viewer.session[ACTIVE_MEMBERSHIP_KEY] = target.pk
    # The request's cached answers now speak of the new hat.
    for name in ("active_membership", "memberships", "roles"):
        viewer.__dict__.pop(name, None)
    return target
