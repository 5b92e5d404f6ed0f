"""Session lifetime: an absolute limit, and ending every session (and socket) of an account."""

import logging
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.sessions.models import Session
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _

from casework.live import SESSION_ENDED, send_event_on_commit, user_group

logger = logging.getLogger(__name__)
SESSION_STARTED_KEY = "casework_signed_in_at"
SESSION_TOUCHED_KEY = "casework_touched_at"
# The idle timeout is exact to this many seconds; saving the session on every request cost three queries.
SESSION_TOUCH_SECONDS = 60


@receiver(user_logged_in)
def remember_sign_in_time(sender, request, user, **kwargs) -> None:
    """Stamp the session with the time of sign-in for the absolute timeout."""
    request.session[SESSION_STARTED_KEY] = int(time.time())


def user_end_sessions(*, user) -> int:
    """End every session and open WebSocket of the user; return how many sessions were ended."""
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            session.delete()
            ended += 1
    send_event_on_commit(user_group(user.pk), {"type": SESSION_ENDED})
    return ended


@receiver(pre_save, sender=get_user_model())
def end_sessions_of_deactivated_user(sender, instance, **kwargs) -> None:
    """When an account is deactivated, end its sessions and sockets at once."""
    if instance.pk is None or instance.is_active:
        return
    was_active = sender.objects.filter(pk=instance.pk, is_active=True).exists()
    if was_active:
        user_end_sessions(user=instance)


class SessionLifetimeMiddleware:
    """Sign out sessions older than SESSION_ABSOLUTE_HOURS; extend active ones by SESSION_IDLE_MINUTES."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            started = request.session.get(SESSION_STARTED_KEY)
            limit = settings.SESSION_ABSOLUTE_HOURS * 3600
            now = int(time.time())
            if started is None:
                request.session[SESSION_STARTED_KEY] = now
            elif now - started > limit:
                logout(request)
                messages.info(
                    request, _("ログインしてから時間が経ったため、ログアウトしました。もう一度ログインしてください。")
                )
                return redirect(settings.LOGIN_URL)
            # Slide the idle timeout at most once a minute instead of rewriting the session on every request.
            if now - request.session.get(SESSION_TOUCHED_KEY, 0) >= SESSION_TOUCH_SECONDS:
                request.session[SESSION_TOUCHED_KEY] = now
        return self.get_response(request)
