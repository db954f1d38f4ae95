"""How a test WebSocket authenticates under session auth: the session cookie."""

from channels.db import database_sync_to_async
from django.conf import settings
from django.test import Client


@database_sync_to_async
def credentials(user):
    """Headers that carry ``user``'s session, as a browser that logged in would send."""
    client = Client()
    client.force_login(user)
    session_id = client.cookies[settings.SESSION_COOKIE_NAME].value
    return [(b"cookie", f"{settings.SESSION_COOKIE_NAME}={session_id}".encode())]


def authenticate_http(client, user):
    """Make a Django test client act as ``user`` on HTTP endpoints: log it in."""
    client.force_login(user)
