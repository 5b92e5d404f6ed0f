"""Second-factor enrolment, verification and recovery codes for the signed-in user."""

import base64
import io

from django import forms
from django.contrib import messages
from django.contrib.auth import authenticate
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import match_token, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.qr import write_qrcode_image

from casework.accounts import services

PENDING_DEVICE_NAME = "pending"


class TokenForm(forms.Form):
    token = forms.CharField(
        label=gettext_lazy("確認コード"),
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def clean_token(self):
        return self.cleaned_data["token"].replace(" ", "").replace("-", "").strip()


class ReauthTokenForm(TokenForm):
    password = forms.CharField(label=gettext_lazy("現在のパスワード"), widget=forms.PasswordInput, required=False)


def _qr_data_uri(url: str) -> str:
    buffer = io.BytesIO()
    write_qrcode_image(url, buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def _safe_next(request) -> str | None:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return None


@require_http_methods(["GET", "POST"])
def second_factor_verify(request):
    """Ask a half-signed-in user for a TOTP or recovery code."""
    if not user_has_device(request.user, confirmed=True):
        return redirect("second_factor_setup")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["token"])
        if device is not None:
            otp_login(request, device)
            services.second_factor_verified(user=request.user)
            if isinstance(device, StaticDevice):
                messages.warning(
                    request, _("復旧コードを使いました。残りのコードを確認し、必要なら作り直してください。")
                )
            return redirect(_safe_next(request) or "home")
        form.add_error("token", _("コードが正しくないか、すでに使われています。"))
    return render(request, "registration/second_factor_verify.html", {"form": form})


@require_http_methods(["GET", "POST"])
def second_factor_setup(request):
    """Enrol (or replace) the TOTP authenticator; replacing needs the password and a verified session."""
    has_device = user_has_device(request.user, confirmed=True)
    if has_device and not request.user.is_verified():
        return redirect("second_factor_verify")
    pending, _created = TOTPDevice.objects.get_or_create(user=request.user, name=PENDING_DEVICE_NAME, confirmed=False)
    form_class = ReauthTokenForm if has_device else TokenForm
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if (
            has_device
            and authenticate(
                request, username=request.user.get_username(), password=form.cleaned_data.get("password") or ""
            )
            is None
        ):
            form.add_error("password", _("パスワードが正しくありません。"))
        elif not pending.verify_token(form.cleaned_data["token"]):
            form.add_error("token", _("コードが正しくありません。認証アプリに表示された6桁の数字を入力してください。"))
        else:
            codes = services.second_factor_enrol(user=request.user, device=pending)
            otp_login(request, pending)
            return render(request, "registration/second_factor_codes.html", {"codes": codes})
    return render(
        request,
        "registration/second_factor_setup.html",
        {
            "form": form,
            "qr": _qr_data_uri(pending.config_url),
            "secret": base64.b32encode(pending.bin_key).decode(),
            "replacing": has_device,
        },
    )


@require_http_methods(["POST"])
def active_membership_switch(request):
    """Switch the organization and role the user acts in (the header's 作業する所属), then go home."""
    from django.core.exceptions import ValidationError

    from casework.viewers import viewer_for

    viewer = viewer_for(request)
    try:
        membership = services.active_membership_switch(
            viewer=viewer, membership_id=request.POST.get("membership", ""), by=request.user
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("%(org)s の%(role)sとして作業します。")
            % {"org": membership.organization.name, "role": membership.get_role_display()},
        )
    # Home, not the page it came from: that page may belong to the other hat.
    return redirect("home")
