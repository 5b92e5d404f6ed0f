"""お知らせ: the list (filters, mark read, mark all read) and the unread count the badge fetches."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from casework.models import Notification, NotificationKind
from casework.notifications import selectors, services
from casework.viewers import viewer_for


@require_GET
def notification_list(request):
    unread_only = request.GET.get("unread") == "1"
    kind = request.GET.get("kind", "")
    if kind not in NotificationKind.values:
        kind = ""
    rows = selectors.notifications_for(viewer_for(request), unread_only=unread_only, kind=kind)
    return render(
        request,
        "casework/notifications/list.html",
        {
            "rows": rows,
            "unread_only": unread_only,
            "kind": kind,
            "kinds": NotificationKind.choices,
            "unread": selectors.unread_count(request.user),
        },
    )


@require_POST
def notification_open(request, pk: int):
    """Mark one notification read and go to what it is about (when the reader may still see it)."""
    notification = get_object_or_404(Notification, pk=pk, user=request.user)
    services.notification_mark_read(notification=notification, by=request.user)
    target = notification.url
    if (
        target
        and selectors.row_visible(viewer_for(request), notification)
        and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    ):
        return HttpResponseRedirect(target)
    return HttpResponseRedirect(reverse("casework:notifications"))


@require_POST
def notification_read_all(request):
    count = services.notifications_mark_all_read(by=request.user)
    messages.success(request, f"{count}件のお知らせを既読にしました。")
    return HttpResponseRedirect(reverse("casework:notifications"))


@require_GET
def notification_count(request):
    return JsonResponse({"unread": selectors.unread_count(request.user)})
