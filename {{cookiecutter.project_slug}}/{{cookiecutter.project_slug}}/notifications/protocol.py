"""Frames of the notifications endpoint."""

from {{ cookiecutter.project_slug }}.realtime.protocol import PROTOCOL_VERSION


def group_name(user_id):
    """The channel layer group of every connection of one user."""
    return f"notifications.{user_id}"


def welcome(username):
    return {"type": "welcome", "protocol": PROTOCOL_VERSION, "user": username}


def history(notifications, truncated):
    return {
        "type": "history",
        "messages": [notification(n) for n in notifications],
        "truncated": truncated,
    }


def notification(stored):
    return {
        "type": "notification",
        "id": stored.id,
        "text": stored.text,
        "data": stored.data,
        "ts": stored.created_at.isoformat(),
    }
