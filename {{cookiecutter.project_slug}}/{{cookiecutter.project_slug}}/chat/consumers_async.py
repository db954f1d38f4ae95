from channels.db import database_sync_to_async
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

    async def connect(self):
        self.user = self.scope["user"]
        self.room_name = self.scope["url_route"]["kwargs"]["room"]
        refusal = access.refusal(self.user)
        if refusal is not None:
            return await self.refuse(refusal)
        try:
            self.room = await database_sync_to_async(services.open_room)(self.room_name, self.user)
        except PermissionDenied:
            return await self.refuse(CloseCode.FORBIDDEN)
        self.username = self.user.get_username()
        # Join before reading history, so that no message falls between the two.
        self.group = chat.group_name(self.room_name)
        await self.group_add(self.group)
        await self.accept()
        change = await presence.join(self.room_name, self.username, self.channel_name)
        self.touched = presence.clock()
        await self.send_frame(chat.welcome(self.room_name, self.username, change.members))
        messages, truncated, unsent = await database_sync_to_async(services.history_and_unsent)(
            self.room, self.user, since_from(self.scope)
        )
        await self.send_frame(chat.history(messages, truncated))
        for message in unsent:
            await self.group_send(*delivery.unsent_to_others(message, self.channel_name))
        await self.announce(change)

    async def disconnect(self, code):
        if self.group:
            await self.group_discard(self.group)
            await self.announce(
                await presence.leave(self.room_name, self.username, self.channel_name)
            )

    async def keep_alive(self):
        # Presence forgets a connection silent for PRESENCE_TTL: hearing from it four
        # times per TTL keeps it listed, without an update of the room on every frame.
        if presence.clock() - self.touched >= settings.PRESENCE_TTL / 4:
            self.touched = presence.clock()
            change = await presence.touch(self.room_name, self.username, self.channel_name)
            await self.announce(change)

    async def on_message(self, frame):
        text, client_id = chat.message_request(frame)
        message, for_room = await database_sync_to_async(services.receive_message)(
            self.room, self.user, text, client_id
        )
        if for_room:
            await self.group_send(*delivery.to_room(message))
            await database_sync_to_async(services.mark_delivered)(message)
        else:
            await self.send_frame(chat.message(message))

    async def on_typing(self, frame):
        await self.group_send(
            *delivery.typing_to_others(self.room_name, self.username, self.channel_name)
        )

    async def on_ping(self, frame):
        # Joining again renews the membership, which the channel layer expires after a day.
        await self.group_add(self.group)
        await self.send_frame(PONG)

    async def on_history(self, frame):
        before, limit = chat.history_request(frame)
        messages, truncated = await database_sync_to_async(services.messages_before)(
            self.room, before, limit
        )
        await self.send_frame(chat.history(messages, truncated))

    async def announce(self, change):
        """Tell the room who came and who went."""
        for event, users in (("join", change.joined), ("leave", change.left)):
            for user in users:
                frame = chat.presence(event, user, change.members)
                await self.group_send(self.group, group_event(frame))
