"""Storing and sending notifications: plain synchronous code, usable from views,
management commands, tasks and consumers alike."""

from django.conf import settings

from {{ cookiecutter.project_slug }}.notifications.models import Notification
from {{ cookiecutter.project_slug }}.notifications.push import push
from {{ cookiecutter.project_slug }}.realtime import pages


def send_notification(user, text, data=None):
    """Store a notification for ``user``, then push it to all of their connections.

    With the in-memory layer only connections in this process are reached live; the
    others get it from history when they next connect.
    """
    notification = Notification.objects.create(user=user, text=text, data=data or {})
    push(notification)
    return notification


def history(user, since=None):
    """The user's latest notifications, or those after ``since``: ``(list, truncated)``."""
    return pages.replay(
        Notification.objects.filter(user=user),
        since,
        latest_limit=settings.NOTIFICATIONS_HISTORY_LENGTH,
        since_limit=settings.NOTIFICATIONS_SINCE_LIMIT,
    )
