"""Token auth: a Django REST framework token identifies the user on sockets and the API.

A client presents its token as the header ``Authorization: Token <key>`` or, for
browsers, which cannot set headers on a WebSocket, as the query parameter
``?token=<key>``. An unknown key is the same as none. Session cookies do not count.

Origin: a handshake whose ``Origin`` names a host outside ``ALLOWED_HOSTS`` is refused
(HTTP 403). One without ``Origin`` is let through: tokens are not ambient like cookies,
and non-browser clients send no Origin.
"""

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from rest_framework.authtoken.models import Token

from {{ cookiecutter.project_slug }}.realtime.handshake import ExplainingOriginValidator


def page(view):
    """A chat page: public. Its script asks for credentials, gets a token from
    ``/api/token/`` and presents it to the socket (see ``static/chat/auth.js``)."""
    return view


def websocket_security(application):
    """Wrap the WebSocket router: origin check first, then the token user."""
    return BrowserOriginValidator(TokenAuthMiddleware(application), settings.ALLOWED_HOSTS)


class BrowserOriginValidator(ExplainingOriginValidator):
    """Checks ``Origin`` when a client sends one; clients that send none pass."""

    def valid_origin(self, parsed_origin):
        return parsed_origin is None or super().valid_origin(parsed_origin)


class TokenAuthMiddleware(BaseMiddleware):
    """Sets ``scope["user"]`` from the token in the headers or the query string, and
    ``scope["auth_problem"]`` to what was wrong with it, for the 4001 close reason."""

    async def __call__(self, scope, receive, send):
        key, problem = token_from_headers(scope)
        key = key or token_from_query(scope)
        user = await user_for_token(key)
        if key and not user.is_authenticated:
            problem = "unknown token: get one from /api/token/"
        scope = dict(scope, user=user, auth_problem=problem)
        return await super().__call__(scope, receive, send)


def token_from_headers(scope):
    """``(key, problem)`` from the Authorization header: a ``Token`` key, or what is wrong
    with the header."""
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            keyword, _, key = value.decode("latin1").partition(" ")
            if keyword != "Token":
                return None, f"use 'Authorization: Token <key>', not {keyword or 'an empty scheme'}"
            return key.strip(), None
    return None, None


def token_from_query(scope):
    query = parse_qs(scope.get("query_string", b"").decode("latin1"))
    return query.get("token", [None])[-1]


@database_sync_to_async
def user_for_token(key):
    if not key:
        return AnonymousUser()
    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active:
        return AnonymousUser()
    return token.user
