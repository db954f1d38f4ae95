"""Every WebSocket route of the project, one list per app."""

from django.urls import re_path

from {{ cookiecutter.project_slug }}.chat.routing import websocket_urlpatterns as chat_routes
from {{ cookiecutter.project_slug }}.echo.routing import websocket_urlpatterns as echo_routes
from {{ cookiecutter.project_slug }}.notifications.routing import (
    websocket_urlpatterns as notification_routes,
)
from {{ cookiecutter.project_slug }}.realtime.handshake import Refusal

websocket_urlpatterns = [
    *echo_routes,
    *chat_routes,
    *notification_routes,
    # Anything else, a malformed room name included: refuse the handshake (HTTP 403)
    # instead of raising "No route found" inside the server.
    re_path(r"", Refusal("no WebSocket endpoint at this path")),
]
