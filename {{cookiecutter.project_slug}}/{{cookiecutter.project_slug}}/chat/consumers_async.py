from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from {{ cookiecutter.project_slug }}.chat import protocol as chat
from {{ cookiecutter.project_slug }}.chat import services
from {{ cookiecutter.project_slug }}.realtime.protocol import CloseCode, FrameError, decode, encode


class ChatConsumer(AsyncWebsocketConsumer):
    """``/ws/chat/<room>/``: one connection of one user to one room.

    Validation and frame building live in ``chat.protocol``, data access in
    ``chat.services``; this class only moves frames between them, the socket and the
    room's channel layer group.
    """

    group = None

    async def connect(self):
        self.user = self.scope["user"]
        self.room_name = self.scope["url_route"]["kwargs"]["room"]
        if not self.user.is_authenticated:
            # Accept, then close: a browser only sees the close code of an open socket.
            await self.accept()
            await self.close(code=CloseCode.NOT_AUTHENTICATED)
            return
        self.room = await database_sync_to_async(services.open_room)(self.room_name)
        # Join before reading history, so that no message falls between the two.
        self.group = chat.group_name(self.room_name)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        username = self.user.get_username()
        await self.send_frame(chat.welcome(self.room_name, username, [username]))
        since = chat.since_from(self.scope)
        messages, truncated = await database_sync_to_async(services.history)(self.room, since)
        await self.send_frame(chat.history(messages, truncated))

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        try:
            frame = decode(text_data, bytes_data, chat.CLIENT_TYPES)
            # decode() admits only CLIENT_TYPES, each with its on_<type> handler.
            await getattr(self, f"on_{frame['type']}")(frame)
        except FrameError as error:
            await self.send_frame(error.frame)

    async def on_message(self, frame):
        text, client_id = chat.message_request(frame)
        message, created = await database_sync_to_async(services.post_message)(
            self.room, self.user, text, client_id
        )
        if created:
            await self.channel_layer.group_send(self.group, chat.group_event(chat.message(message)))
        else:
            await self.send_frame(chat.message(message))

    async def on_typing(self, frame):
        event = chat.group_event(chat.typing(self.user.get_username()), exclude=self.channel_name)
        await self.channel_layer.group_send(self.group, event)

    async def on_ping(self, frame):
        await self.send_frame(chat.PONG)

    async def on_history(self, frame):
        before, limit = chat.history_request(frame)
        messages, truncated = await database_sync_to_async(services.messages_before)(
            self.room, before, limit
        )
        await self.send_frame(chat.history(messages, truncated))

    async def chat_frame(self, event):
        """A frame for the whole room, from ``chat.group_event``."""
        if event["exclude"] != self.channel_name:
            await self.send(text_data=event["text"])

    async def send_frame(self, frame):
        await self.send(text_data=encode(frame))
