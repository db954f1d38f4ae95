"""Who hears what in a room: the channel layer group and event of every frame that the
chat endpoint sends to more than one connection, as ``(group, event)``."""

from {{ cookiecutter.project_slug }}.chat import protocol as chat
from {{ cookiecutter.project_slug }}.realtime.protocol import group_event


def to_room(stored):
    """A stored message, to every connection in its room and no other room's; the
    sender's connections too, as that copy is the sender's acknowledgement."""
    return chat.group_name(stored.room.name), group_event(chat.message(stored))


def unsent_to_others(stored, channel_name):
    """A stored message that never reached its room, sent by its sender's connection
    ``channel_name`` on connect: :func:`to_room`, but not to that connection, which has
    it in its history already."""
    group, event = to_room(stored)
    return group, event | {"exclude": channel_name}


def typing_to_others(room_name, username, channel_name):
    """``username`` is typing: to every connection in the room but the typist's own."""
    return chat.group_name(room_name), group_event(chat.typing(username), exclude=channel_name)
