from asgiref.sync import async_to_sync
from django.conf import settings
from django.core.exceptions import PermissionDenied

from {{ cookiecutter.project_slug }}.chat import delivery, services
from {{ cookiecutter.project_slug }}.chat import protocol as chat
from {{ cookiecutter.project_slug }}.realtime import access, presence
from {{ cookiecutter.project_slug }}.realtime.consumers import FrameConsumer
from {{ cookiecutter.project_slug }}.realtime.protocol import PONG, CloseCode, group_event, since_from


class ChatConsumer(FrameConsumer):
    """``/ws/chat/<room>/``: one connection of one user to one room.

    Validation and frames live in ``chat.protocol``, data in ``chat.services``, who hears
    what in ``chat.delivery``, who is here in ``realtime.presence``; this class moves
    frames between them, the socket and the room's channel layer group.
    """

    group = None

    def connect(self):
        self.user = self.scope["user"]
        self.room_name = self.scope["url_route"]["kwargs"]["room"]
        refusal = access.refusal(self.user)
        if refusal is not None:
            return self.refuse(refusal)
        try:
            self.room = services.open_room(self.room_name, self.user)
        except PermissionDenied:
            return self.refuse(CloseCode.FORBIDDEN)
        self.username = self.user.get_username()
        # Join before reading history, so that no message falls between the two.
        self.group = chat.group_name(self.room_name)
        self.group_add(self.group)
        self.accept()
        change = async_to_sync(presence.join)(self.room_name, self.username, self.channel_name)
        self.touched = presence.clock()
        self.send_frame(chat.welcome(self.room_name, self.username, change.members))
        messages, truncated, unsent = services.history_and_unsent(
            self.room, self.user, since_from(self.scope)
        )
        self.send_frame(chat.history(messages, truncated))
        for message in unsent:
            self.group_send(*delivery.unsent_to_others(message, self.channel_name))
        self.announce(change)

    def disconnect(self, code):
        if self.group:
            self.group_discard(self.group)
            self.announce(
                async_to_sync(presence.leave)(self.room_name, self.username, self.channel_name)
            )

    def keep_alive(self):
        # Presence forgets a connection silent for PRESENCE_TTL: hearing from it four
        # times per TTL keeps it listed, without an update of the room on every frame.
        if presence.clock() - self.touched >= settings.PRESENCE_TTL / 4:
            self.touched = presence.clock()
            change = async_to_sync(presence.touch)(self.room_name, self.username, self.channel_name)
            self.announce(change)

    def on_message(self, frame):
        text, client_id = chat.message_request(frame)
        message, for_room = services.receive_message(self.room, self.user, text, client_id)
        if for_room:
            self.group_send(*delivery.to_room(message))
            services.mark_delivered(message)
        else:
            self.send_frame(chat.message(message))

    def on_typing(self, frame):
        self.group_send(
            *delivery.typing_to_others(self.room_name, self.username, self.channel_name)
        )

    def on_ping(self, frame):
        # Joining again renews the membership, which the channel layer expires after a day.
        self.group_add(self.group)
        self.send_frame(PONG)

    def on_history(self, frame):
        before, limit = chat.history_request(frame)
        messages, truncated = services.messages_before(self.room, before, limit)
        self.send_frame(chat.history(messages, truncated))

    def announce(self, change):
        """Tell the room who came and who went."""
        for event, users in (("join", change.joined), ("leave", change.left)):
            for user in users:
                frame = chat.presence(event, user, change.members)
                self.group_send(self.group, group_event(frame))
