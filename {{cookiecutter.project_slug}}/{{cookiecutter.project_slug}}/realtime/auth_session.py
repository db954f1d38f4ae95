"""Session auth: the Django session cookie identifies the user, on pages and sockets.

Browsers send cookies with every request, whichever site opened the socket, so a
handshake must prove it comes from one of our pages: its ``Origin`` header must name a
host in ``ALLOWED_HOSTS``, and a handshake without one is refused too (HTTP 403).
"""

from channels.auth import AuthMiddleware
from channels.sessions import CookieMiddleware, InstanceSessionWrapper, SessionMiddleware
from django.conf import settings
from django.contrib.auth.decorators import login_required

from {{ cookiecutter.project_slug }}.realtime.handshake import ExplainingOriginValidator


class SocketSessionMiddleware(SessionMiddleware):
    """Channels' SessionMiddleware, without its wrapper around ``send``.

    The wrapper looks at the session before every message sent, to save it ahead of an
    HTTP response; a WebSocket message never saves it, yet a room's every delivery paid
    for the look (docs/performance.md). Code that changes the session over a socket saves
    it itself, as it had to before.
    """

    async def __call__(self, scope, receive, send):
        wrapper = InstanceSessionWrapper(scope, send)
        await wrapper.resolve_session()
        return await self.inner(wrapper.scope, receive, send)


def websocket_security(application):
    """Wrap the WebSocket router: origin check first, then the session user (the pieces of
    Channels' ``AuthMiddlewareStack``, its session middleware replaced by the one above)."""
    stack = CookieMiddleware(SocketSessionMiddleware(AuthMiddleware(application)))
    return ExplainingOriginValidator(stack, settings.ALLOWED_HOSTS)


def page(view):
    """A chat page: signed-in users only; the socket it opens sends the session cookie.
    Anonymous visitors go to the login page."""
    return login_required(view)
