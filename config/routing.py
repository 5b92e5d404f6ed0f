"""WebSocket routes of every app, collected in one list."""

from django.utils.module_loading import import_string


def _collect() -> list:
    routes = []
    for path in ["casework.routing.websocket_urlpatterns", "meetings.routing.websocket_urlpatterns"]:
        try:
            routes.extend(import_string(path))
        except ImportError:
            continue
    return routes


websocket_urlpatterns = _collect()
