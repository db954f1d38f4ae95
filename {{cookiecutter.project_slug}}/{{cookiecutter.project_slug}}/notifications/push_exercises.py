"""Pushing a stored notification to the sockets of its user, from any code: a view, a
management command, a task."""


def push(notification):
    """To every connection of the notification's user that the channel layer reaches
    (with the in-memory layer, those of this process only)."""
    raise NotImplementedError(
        "Exercise 3: push a stored notification to its user's group from plain "
        "synchronous code; see docs/workshop.md#exercise-3"
    )
