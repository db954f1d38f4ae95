"""Who may open an endpoint for signed-in users (chat rooms, notifications)."""

from {{ cookiecutter.project_slug }}.realtime.protocol import CloseCode


def refusal(user):
    """The close code that ends the handshake of ``user``, or None to let them in.

    The consumer accepts before it closes with the code, so that a browser sees it (and
    stops reconnecting); it joins no group and sends no frame first.
    """
    if user.is_authenticated:
        return None
    return CloseCode.NOT_AUTHENTICATED
