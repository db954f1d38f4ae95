"""Frames of the chat endpoint: what clients may send, and every frame the server sends.

Each server frame is built here, once, for both consumer styles.
"""

from django.conf import settings

from {{ cookiecutter.project_slug }}.chat.models import Message
from {{ cookiecutter.project_slug }}.realtime.protocol import PROTOCOL_VERSION, int_field, text_field


def group_name(room_name):
    """The channel layer group of a room (room names are valid group names)."""
    return f"chat.{room_name}"


def welcome(room_name, username, members):
    return {
        "type": "welcome",
        "protocol": PROTOCOL_VERSION,
        "room": room_name,
        "user": username,
        "members": members,
    }


def history(messages, truncated):
    return {"type": "history", "messages": [message(m) for m in messages], "truncated": truncated}


def message(stored):
    return {
        "type": "message",
        "id": stored.id,
        "room": stored.room.name,
        "user": stored.user.get_username() if stored.user else None,
        "text": stored.text,
        "ts": stored.created_at.isoformat(),
        "client_id": stored.client_id,
    }


def room_summary(room, members):
    """A room as ``GET /api/rooms/`` lists it: ``members`` is how many are in it now."""
    return {
        "name": room.name,
        "is_private": room.is_private,
        "members": members,
        "last_message_at": room.last_message_at.isoformat() if room.last_message_at else None,
    }


def presence(event, username, members):
    """``event`` is "join" (a user's first connection) or "leave" (their last one)."""
    return {"type": "presence", "event": event, "user": username, "members": members}


def typing(username):
    return {"type": "typing", "user": username}


def message_request(frame):
    """``(text, client_id)`` of a client ``message`` frame; an empty client_id is none."""
    text = text_field(frame, "text", max_length=settings.CHAT_MESSAGE_MAX_LENGTH)
    client_id = text_field(
        frame,
        "client_id",
        max_length=Message._meta.get_field("client_id").max_length,
        blank=True,
        required=False,
    )
    return text, client_id or None


def history_request(frame):
    """``(before, limit)`` of a client ``history`` frame."""
    before = int_field(frame, "before", minimum=0)
    limit = int_field(
        frame,
        "limit",
        minimum=1,
        maximum=settings.CHAT_HISTORY_PAGE_MAX,
        default=settings.CHAT_HISTORY_PAGE_SIZE,
    )
    return before, limit
