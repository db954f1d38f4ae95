"""How a test WebSocket authenticates under token auth: the Authorization header."""

from channels.db import database_sync_to_async
from rest_framework.authtoken.models import Token


@database_sync_to_async
def token_for(user):
    return Token.objects.get_or_create(user=user)[0].key


async def credentials(user):
    """Headers that carry ``user``'s token, as a non-browser client sends it."""
    return [(b"authorization", f"Token {await token_for(user)}".encode())]
