"""The user's own settings: the personal calendar feed (ICS) URL and the daily digest mail."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from casework.calendar import has_calendar
from casework.models import CalendarFeed, DigestSubscription
from casework.services.personal import calendar_feed_issue, calendar_feed_revoke, digest_subscription_set
from casework.viewers import viewer_for


def _viewer(request):
    viewer = viewer_for(request)
    if viewer.active_membership is None:
        raise Http404
    return viewer


def _render(request, viewer, *, secret: str | None = None, status: int = 200):
    feed = CalendarFeed.objects.filter(user=request.user, revoked_at__isnull=True).select_related("membership").first()
    feed_url = (
        request.build_absolute_uri(reverse("casework:calendar_feed", args=[secret])) if secret is not None else None
    )
    response = render(
        request,
        "casework/personal_settings.html",
        {
            "feed": feed,
            "feed_url": feed_url,
            "has_calendar": has_calendar(viewer),
            "digest_on": DigestSubscription.objects.filter(user=request.user, daily=True).exists(),
            "email": request.user.email,
        },
        status=status,
    )
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def personal_settings(request):
    """Show the user's feed (never its URL again) and digest settings."""
    return _render(request, _viewer(request))


@require_POST
def calendar_feed_new(request):
    """Issue a feed URL (revoking the previous one) and show it on this response only."""
    viewer = _viewer(request)
    if not has_calendar(viewer):
        raise Http404
    try:
        _feed, secret = calendar_feed_issue(by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("casework:personal_settings")
    return _render(request, viewer, secret=secret)


@require_POST
def calendar_feed_stop(request):
    """Revoke the feed URL: the calendar program's next fetch gets 404."""
    _viewer(request)
    if calendar_feed_revoke(by=request.user):
        messages.success(request, _("カレンダー配信を止めました。以前のURLは使えません。"))
    return redirect("casework:personal_settings")


@require_POST
def digest_settings(request):
    """Turn the daily digest mail on (checkbox ticked) or off."""
    _viewer(request)
    daily = request.POST.get("daily") == "on"
    try:
        digest_subscription_set(by=request.user, daily=daily)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("まとめメールを毎朝お送りします。") if daily else _("まとめメールを止めました。"))
    return redirect("casework:personal_settings")
