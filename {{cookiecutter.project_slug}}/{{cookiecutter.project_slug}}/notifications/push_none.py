"""Pushing a stored notification to the sockets of its user, from any code: a view, a
management command, a task."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from {{ cookiecutter.project_slug }}.notifications import protocol as notifications
from {{ cookiecutter.project_slug }}.realtime.protocol import group_event


def push(notification):
    """To every connection of the notification's user that the channel layer reaches
    (with the in-memory layer, those of this process only)."""
    async_to_sync(get_channel_layer().group_send)(
        notifications.group_name(notification.user_id),
        group_event(notifications.notification(notification)),
    )
