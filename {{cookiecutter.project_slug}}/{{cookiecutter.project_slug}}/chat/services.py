"""Reading and writing chat data: plain synchronous ORM code.

The sync consumer calls these directly; the async consumer wraps them in
``database_sync_to_async``. Every query here returns what a frame needs, users included,
so that nothing touches the database lazily from async code. :func:`broadcast` is for
code outside a consumer: views, management commands, tasks.

A message is stored first and sent to its room after, and the database and the channel
layer share no transaction: a process killed between the two leaves a message stored
that nobody was sent. So a message is stored not yet ``delivered``, and marked once
sent (:func:`mark_delivered`); one left unmarked is sent when its sender comes back,
on connect (:func:`history_and_unsent`) or by resending it (:func:`receive_message`).
"""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import F, Max, Q

from {{ cookiecutter.project_slug }}.chat import delivery
from {{ cookiecutter.project_slug }}.chat.models import Message, Room
from {{ cookiecutter.project_slug }}.realtime import pages


def open_room(name, user):
    """The room called ``name`` for ``user``, created as a public room on first use.

    Raises PermissionDenied for a private room whose members do not include ``user``.
    """
    room, _ = Room.objects.get_or_create(name=name)
    if room.is_private and not room.members.filter(pk=user.pk).exists():
        raise PermissionDenied(f"{user} is not a member of the private room {name}.")
    return room


def rooms_for(user, limit):
    """The rooms ``user`` may enter (the public ones and the private ones they belong
    to), most recently active first, each with ``last_message_at`` (None when empty)."""
    rooms = Room.objects.filter(Q(is_private=False) | Q(pk__in=user.chat_rooms.values("pk")))
    rooms = rooms.annotate(last_message_at=Max("messages__created_at"))
    return list(rooms.order_by(F("last_message_at").desc(nulls_last=True), "name")[:limit])


def post_message(room, user, text, client_id=None):
    """Store a message, not yet delivered; return ``(message, created)``.

    A ``client_id`` that this user already used in this room returns the stored message
    with ``created`` False, so a resend after a reconnect is neither lost nor doubled.
    """
    if client_id is None:
        return Message.objects.create(room=room, user=user, text=text, delivered=False), True
    return Message.objects.select_related("room", "user").get_or_create(
        room=room, user=user, client_id=client_id, defaults={"text": text, "delivered": False}
    )


def receive_message(room, user, text, client_id=None):
    """A ``message`` frame of ``user``'s: store it; return ``(message, for_room)``.

    ``for_room`` is True for a new message, and for a resend of one that never reached the
    room (claimed here, see :func:`claim`): the caller sends it to the room, then calls
    :func:`mark_delivered`. Otherwise the stored message goes back to the sender alone.
    """
    message, created = post_message(room, user, text, client_id)
    return message, created or claim(message)


def mark_delivered(message):
    """Record that ``message`` was sent to its room: one UPDATE by primary key, which
    changes nothing for a message that its sender's resend claimed."""
    Message.objects.filter(pk=message.pk).update(delivered=True)


def claim(message):
    """Mark a ``message`` that was never delivered as delivered; True for the one caller
    that did, which sends it to the room now. The UPDATE is conditional, so two
    connections that find the same message undelivered (two tabs of its sender
    reconnecting at once) send it once."""
    return (
        not message.delivered
        and Message.objects.filter(pk=message.pk, delivered=False).update(delivered=True) == 1
    )


def history(room, since=None):
    """What a connection gets first: the latest messages, or those after ``since``.

    Returns ``(messages, truncated)``, oldest first; ``truncated`` says that older
    (without ``since``) or further (with ``since``) messages were left out.
    """
    return pages.replay(
        room.messages.select_related("user"),
        since,
        latest_limit=settings.CHAT_HISTORY_LENGTH,
        since_limit=settings.CHAT_SINCE_LIMIT,
    )


def history_and_unsent(room, user, since=None):
    """What a connection of ``user``'s reads on connect: :func:`history`, and the user's
    own messages in it that never reached the room, claimed for this connection to send
    to the others (it has them in its history). Returns ``(messages, truncated, unsent)``.
    """
    messages, truncated = history(room, since)
    return messages, truncated, [m for m in messages if m.user_id == user.pk and claim(m)]


def messages_before(room, before, limit):
    """The ``limit`` newest messages with an id below ``before``, oldest first."""
    return pages.before(room.messages.select_related("user"), before, limit)


def broadcast(room, text):
    """Store a system message (no user) in ``room``, then send it to the room."""
    message, _ = post_message(room, None, text)
    async_to_sync(get_channel_layer().group_send)(*delivery.to_room(message))
    mark_delivered(message)
    return message
