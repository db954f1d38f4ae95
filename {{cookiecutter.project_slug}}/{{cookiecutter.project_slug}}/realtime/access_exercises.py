"""Who may open an endpoint for signed-in users (chat rooms, notifications)."""


def refusal(user):
    """The close code that ends the handshake of ``user``, or None to let them in.

    The consumer accepts before it closes with the code, so that a browser sees it (and
    stops reconnecting); it joins no group and sends no frame first.
    """
    if user.is_authenticated:
        return None
    raise NotImplementedError(
        "Exercise 4: refuse an anonymous socket with close code 4001; "
        "see docs/workshop.md#exercise-4"
    )
