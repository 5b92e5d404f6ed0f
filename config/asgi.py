"""ASGI entry point: HTTP through Django, WebSockets through channels with Origin and session checks."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from casework.audit.roles import refuse_to_serve_if_unbound  # noqa: E402

refuse_to_serve_if_unbound()  # with DATABASE_APP_ROLE set: never serve as a role that can shorten the log

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import re_path  # noqa: E402

from config.outage import WebsocketOutageGuard  # noqa: E402
from config.routing import websocket_urlpatterns  # noqa: E402
from config.websocket import ExactOriginValidator, RefuseConsumer, let_daphne_close_with_1009  # noqa: E402

let_daphne_close_with_1009()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": WebsocketOutageGuard(
            ExactOriginValidator(
                # A path no route matches is refused at the handshake, never answered with a 500.
                AuthMiddlewareStack(URLRouter([*websocket_urlpatterns, re_path(r"", RefuseConsumer.as_asgi())]))
            )
        ),
    }
)
