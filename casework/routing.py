"""WebSocket routes of the casework app (collected by config.routing)."""

from django.urls import path

from casework.notifications.consumers import NotificationConsumer

websocket_urlpatterns = [
    path("ws/notifications/", NotificationConsumer.as_asgi()),
]
