from asgiref.sync import async_to_sync
from channels.generic.websocket import WebsocketConsumer

from {{ cookiecutter.project_slug }}.chat import protocol as chat
from {{ cookiecutter.project_slug }}.chat import services
from {{ cookiecutter.project_slug }}.realtime.protocol import CloseCode, FrameError, decode, encode


class ChatConsumer(WebsocketConsumer):
    """``/ws/chat/<room>/``: one connection of one user to one room.

    Validation and frame building live in ``chat.protocol``, data access in
    ``chat.services``; this class only moves frames between them, the socket and the
    room's channel layer group. Channels runs each handler in a worker thread, so the
    ORM is called directly.
    """

    group = None

    def connect(self):
        self.user = self.scope["user"]
        self.room_name = self.scope["url_route"]["kwargs"]["room"]
        if not self.user.is_authenticated:
            # Accept, then close: a browser only sees the close code of an open socket.
            self.accept()
            self.close(code=CloseCode.NOT_AUTHENTICATED)
            return
        self.room = services.open_room(self.room_name)
        # Join before reading history, so that no message falls between the two.
        self.group = chat.group_name(self.room_name)
        async_to_sync(self.channel_layer.group_add)(self.group, self.channel_name)
        self.accept()
        username = self.user.get_username()
        self.send_frame(chat.welcome(self.room_name, username, [username]))
        messages, truncated = services.history(self.room, chat.since_from(self.scope))
        self.send_frame(chat.history(messages, truncated))

    def disconnect(self, code):
        if self.group:
            async_to_sync(self.channel_layer.group_discard)(self.group, self.channel_name)

    def receive(self, text_data=None, bytes_data=None):
        try:
            frame = decode(text_data, bytes_data, chat.CLIENT_TYPES)
            # decode() admits only CLIENT_TYPES, each with its on_<type> handler.
            getattr(self, f"on_{frame['type']}")(frame)
        except FrameError as error:
            self.send_frame(error.frame)

    def on_message(self, frame):
        text, client_id = chat.message_request(frame)
        message, created = services.post_message(self.room, self.user, text, client_id)
        if created:
            self.group_send(chat.group_event(chat.message(message)))
        else:
            self.send_frame(chat.message(message))

    def on_typing(self, frame):
        self.group_send(
            chat.group_event(chat.typing(self.user.get_username()), exclude=self.channel_name)
        )

    def on_ping(self, frame):
        self.send_frame(chat.PONG)

    def on_history(self, frame):
        before, limit = chat.history_request(frame)
        messages, truncated = services.messages_before(self.room, before, limit)
        self.send_frame(chat.history(messages, truncated))

    def chat_frame(self, event):
        """A frame for the whole room, from ``chat.group_event``."""
        if event["exclude"] != self.channel_name:
            self.send(text_data=event["text"])

    def group_send(self, event):
        async_to_sync(self.channel_layer.group_send)(self.group, event)

    def send_frame(self, frame):
        self.send(text_data=encode(frame))
