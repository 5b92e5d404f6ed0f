"""Issuing and revoking the open API's organization tokens (system administrators only)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from casework import audit
from casework.models import AccessLog, ApiScope, ApiToken, Organization

TOKEN_PREFIX = "jsu_"


def token_digest(secret: str) -> str:
    """Return the stored form of a secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_token_issue(
    *, organization: Organization, label: str, scopes: list[str], by, expires_on: date | None = None
) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret, which is shown once and never stored."""
    scopes = list(dict.fromkeys(scopes or []))
    errors = {}
    if not scopes or any(s not in ApiScope.values for s in scopes):
        errors["scopes"] = "範囲を一つ以上選んでください。"
    if not label.strip():
        errors["label"] = "用途を入力してください。"
    if expires_on is not None and expires_on < timezone.localdate():
        errors["expires_on"] = "有効期限は今日以降にしてください。"
    if not organization.is_active:
        errors["organization"] = "有効な機関を選んでください。"
    if errors:
        raise ValidationError(errors)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        organization=organization,
        label=label.strip(),
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        digest=token_digest(secret),
        scopes=scopes,
        expires_on=expires_on,
        created_by=by,
    )
    audit.log_access(
        actor=by,
        action=AccessLog.Action.CREATE,
        object_type="apitoken",
        object_id=token.pk,
        basis=AccessLog.Basis.NONE,
        reason=f"APIトークンの発行（{organization}）",
    )
    return token, secret


@transaction.atomic
def api_token_revoke(*, token: ApiToken, by) -> ApiToken:
    """Revoke a token: the next request with it gets 401."""
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is not None:
        return token
    token.revoked_at = timezone.now()
    token.revoked_by = by
    token.save(update_fields=["revoked_at", "revoked_by"])
    audit.log_access(
        actor=by,
        action=AccessLog.Action.CHANGE,
        object_type="apitoken",
        object_id=token.pk,
        basis=AccessLog.Basis.NONE,
        reason="APIトークンの失効",
    )
    return token
