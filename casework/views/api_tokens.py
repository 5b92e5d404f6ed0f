"""Open-API tokens (system administrators only): issue one for an organization, list, revoke."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from casework.forms import ApiTokenForm
from casework.models import ApiToken
from casework.services.api_tokens import api_token_issue, api_token_revoke
from casework.viewers import viewer_for


def _require_administrator(request) -> None:
    if not viewer_for(request).is_administrator:
        raise Http404


@require_http_methods(["GET", "POST"])
def token_list(request):
    """List tokens and issue a new one; the secret is shown on this response only."""
    _require_administrator(request)
    form = ApiTokenForm(request.POST or None)
    secret = None
    issued = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            issued, secret = api_token_issue(
                organization=data["organization"],
                label=data["label"],
                scopes=data["scopes"],
                expires_on=data["expires_on"],
                by=request.user,
            )
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            form = ApiTokenForm()
    tokens = ApiToken.objects.select_related("organization", "created_by", "revoked_by")[:200]
    return render(
        request,
        "casework/api_tokens.html",
        {"form": form, "tokens": tokens, "secret": secret, "issued": issued},
    )


@require_POST
def token_revoke(request, pk: int):
    """Revoke a token: its next request gets 401."""
    _require_administrator(request)
    token = get_object_or_404(ApiToken, pk=pk)
    api_token_revoke(token=token, by=request.user)
    messages.success(request, _("トークンを失効させました。"))
    return redirect("casework:api_tokens")
