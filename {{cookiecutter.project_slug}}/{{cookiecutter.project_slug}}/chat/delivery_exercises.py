"""Who hears what in a room: the channel layer group and event of every frame that the
chat endpoint sends to more than one connection, as ``(group, event)``."""


def to_room(stored):
    """A stored message, to every connection in its room and no other room's; the
    sender's connections too, as that copy is the sender's acknowledgement."""
    raise NotImplementedError(
        "Exercise 1: send a stored message to its room's group, and no other; "
        "see docs/workshop.md#exercise-1"
    )


def unsent_to_others(stored, channel_name):
    """A stored message that never reached its room, sent by its sender's connection
    ``channel_name`` on connect: :func:`to_room`, but not to that connection, which has
    it in its history already."""
    group, event = to_room(stored)
    return group, event | {"exclude": channel_name}


def typing_to_others(room_name, username, channel_name):
    """``username`` is typing: to every connection in the room but the typist's own."""
    raise NotImplementedError(
        "Exercise 2: tell the others in the room who is typing, but not the typist; "
        "see docs/workshop.md#exercise-2"
    )
