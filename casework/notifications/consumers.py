"""The badge's socket: joins the user's group and passes on "the unread count changed" (no content)."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from casework.accounts.second_factor import second_factor_satisfied
from casework.live import user_group

CLOSE_UNAUTHORIZED = 4401


class NotificationConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if not await self._allowed(user):
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        self.group = user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    @database_sync_to_async
    def _allowed(self, user) -> bool:
        """Signed in, active, and past the second factor where it is required (as for HTTP)."""
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.models import Device

        if user is None or not user.is_authenticated:
            return False
        user.refresh_from_db(fields=["is_active"])
        if not user.is_active:
            return False
        persistent_id = self.scope.get("session", {}).get(DEVICE_ID_SESSION_KEY)
        device = Device.from_persistent_id(persistent_id) if persistent_id else None
        verified = device is not None and device.user_id == user.pk and device.confirmed
        user.otp_device = device if verified else None
        user.is_verified = lambda: verified
        return second_factor_satisfied(user)

    async def disconnect(self, code):
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        # The client only listens.
        return

    async def notifications_changed(self, event):
        await self.send(text_data='{"type": "notifications.changed"}')

    async def session_ended(self, event):
        await self.close(code=CLOSE_UNAUTHORIZED)
