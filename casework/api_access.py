"""The open API's door: a bearer token of one organization, checked for its scope, and every read logged.

API responses answer in JSON: 401 for a missing, unknown, expired or revoked token (one answer for all,
so a probe learns nothing), 403 for a token without the scope. Every answered read writes an
access-log row like any screen's, naming the token's organization and the token (basis_ref).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.utils import timezone

from casework import audit
from casework.models import AccessLog, ApiToken
from casework.services.api_tokens import token_digest


class ApiDenied(Exception):
    """The request's token does not open this resource; carries the JSON answer."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message

    def response(self) -> JsonResponse:
        response = JsonResponse({"error": self.message}, status=self.status)
        if self.status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="jusou-api"'
        return response


def token_for_request(request, scope: str) -> ApiToken:
    """Return the usable token in the Authorization header with the scope, or raise ApiDenied."""
    header = request.headers.get("Authorization", "")
    kind, _space, secret = header.partition(" ")
    if kind.lower() != "bearer" or not secret.strip() or len(secret) > 200:
        raise ApiDenied(401, "有効なAPIトークンが必要です（Authorization: Bearer …）")
    token = ApiToken.objects.select_related("organization").filter(digest=token_digest(secret.strip())).first()
    if token is None or not token.is_usable():
        raise ApiDenied(401, "有効なAPIトークンが必要です（Authorization: Bearer …）")
    if scope not in (token.scopes or []):
        raise ApiDenied(403, "このトークンではこの情報を取得できません")
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token


def log_api_read(
    token: ApiToken,
    *,
    object_type: str,
    object_id: object = "",
    person_ids: Iterable[int] = (),
    many: bool = True,
    basis: str = AccessLog.Basis.OWN_ORGANIZATION,
) -> None:
    """Write the access-log row for what an API response shows (raises AccessLogUnavailable: no answer)."""
    audit.log_access(
        actor=None,
        action=AccessLog.Action.LIST if many else AccessLog.Action.VIEW,
        object_type=object_type,
        object_id=object_id,
        person_ids=person_ids,
        basis=basis,
        basis_ref=f"apitoken:{token.pk}",
        organization_id=token.organization_id,
        role="api",
        auth_strength=AccessLog.AuthStrength.API_TOKEN,
        reason=f"APIトークン「{token.label}」（{token.prefix}…）",
    )


def api_view(scope: str):
    """Make a view an API endpoint: GET only, no session sign-in, a token with the scope; JSON errors.

    The wrapped view is called as view(request, token, ...).
    """

    def decorate(view):
        @login_not_required  # the token is the authentication (LoginRequiredMiddleware would redirect)
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method not in ("GET", "HEAD"):
                return JsonResponse({"error": "GET だけを受け付けます"}, status=405, headers={"Allow": "GET"})
            try:
                token = token_for_request(request, scope)
                return view(request, token, *args, **kwargs)
            except ApiDenied as denied:
                return denied.response()

        return wrapped

    return decorate
