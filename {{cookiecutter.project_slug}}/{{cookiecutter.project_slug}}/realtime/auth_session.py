"""Session auth: the Django session cookie identifies the user, on pages and sockets.

Browsers send cookies with every request, whichever site opened the socket, so a
handshake must prove it comes from one of our pages: its ``Origin`` header must name a
host in ``ALLOWED_HOSTS``, and a handshake without one is refused too (HTTP 403).
"""

from channels.auth import AuthMiddlewareStack
from django.conf import settings
from django.contrib.auth.decorators import login_required

from {{ cookiecutter.project_slug }}.realtime.handshake import ExplainingOriginValidator


def websocket_security(application):
    """Wrap the WebSocket router: origin check first, then the session user."""
    return ExplainingOriginValidator(AuthMiddlewareStack(application), settings.ALLOWED_HOSTS)


def page(view):
    """A chat page: signed-in users only; the socket it opens sends the session cookie.
    Anonymous visitors go to the login page."""
    return login_required(view)
