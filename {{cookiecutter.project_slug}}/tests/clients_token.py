"""How a test WebSocket authenticates under token auth: the Authorization header."""

from channels.db import database_sync_to_async
from rest_framework.authtoken.models import Token


def sync_token_for(user):
    return Token.objects.get_or_create(user=user)[0].key


token_for = database_sync_to_async(sync_token_for)


async def credentials(user):
    """Headers that carry ``user``'s token, as a non-browser client sends it."""
    return [(b"authorization", f"Token {await token_for(user)}".encode())]


def authenticate_http(client, user):
    """Make a Django test client act as ``user`` on HTTP endpoints: send its token."""
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {sync_token_for(user)}"
