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
