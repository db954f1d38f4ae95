"""The base of every WebSocket endpoint: JSON frames in, limits applied, handlers called.

Channels runs each handler of a sync consumer in a worker thread, so handlers call the
ORM directly and reach the channel layer through ``async_to_sync``.
"""

import asyncio
import logging
from functools import cached_property

from asgiref.sync import async_to_sync, sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import WebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings

from {{ cookiecutter.project_slug }}.realtime import drain, fanout, metrics
from {{ cookiecutter.project_slug }}.realtime.limits import Flooding, RateLimiter
from {{ cookiecutter.project_slug }}.realtime.protocol import (
    CLOSE_REASONS,
    CloseCode,
    FrameError,
    FrameRefused,
    decode,
    encode,
)
from {{ cookiecutter.project_slug }}.realtime.send_queue import SendQueue

logger = logging.getLogger(__name__)

SERVER_ERROR_CLOSE = {"type": "websocket.close", "code": 1011, "reason": "server error"}


class FrameConsumer(WebsocketConsumer):
    """Takes each client frame through the rate limit and :func:`decode`, then calls
    ``on_<type>(frame)``: the frame types a consumer accepts are its ``on_<type>``
    handlers, and nothing else.

    A refused frame gets an ``error`` frame and the connection stays open; one that keeps
    flooding is closed with 4008.
    """

    # Set once the server closes the connection: frames still in flight are ignored.
    closing = False
    # For the metrics: set once the socket is accepted; the code that ended it.
    opened = False
    close_code = None

    async def __call__(self, scope, receive, send):
        """Serve one connection: its socket's messages, handled one at a time.

        Channels' consumers also read a channel of their own from the layer, which costs
        each socket a layer queue and two tasks, a fifth of an idle socket's memory. These
        read their socket only: what the layer has for them comes through their groups
        (``realtime/fanout.py``), frames to the send queue, other events to
        :meth:`handle_event`.
        """
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.channel_name = fanout.connection_name()
        # Every message is queued and written by a task of its own: the one thread that
        # runs the handlers of every sync consumer never waits for a slow client.
        self.send_queue = SendQueue(send, capacity=settings.CHANNEL_LAYER_CAPACITY, direct=False)
        self.base_send = async_to_sync(self.send_queue.put)
        self.turn = asyncio.Lock()  # a message is handled after the one before
        drain.current.opened(self)
        try:
            while True:
                message = await receive()
                async with self.turn:
                    await self.dispatch(message)
        except StopConsumer:
            pass
        finally:
            self.closing = True
            drain.current.closed(self)
            if self.opened:
                self.metrics.closed(self.close_code)
            await self.send_queue.close()

    async def handle_event(self, event):
        """A group event other than a frame, handled in its turn (``realtime/fanout.py``).
        A handler that fails closes the connection (1011), as it would in Channels."""
        async with self.turn:
            if self.closing:
                return
            try:
                await self.dispatch(event)
            except Exception:
                logger.exception("Handling a %s event failed", event.get("type"))
                self.send_queue.put_nowait(SERVER_ERROR_CLOSE)

    async def dispatch(self, message):
        await super().dispatch(message)
        if message["type"] == "websocket.connect":
            # What connect() sent comes first; the frames of the groups it joined follow.
            self.send_queue.release()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.client_types = frozenset(
            name.removeprefix("on_") for name in dir(cls) if name.startswith("on_")
        )
        cls.metrics = metrics.for_consumer(cls)

    @cached_property
    def rate_limiter(self):
        return RateLimiter.from_settings(dropped=self.metrics.frames_rate_limited.inc)

    def accept(self, subprotocol=None, headers=None):
        super().accept(subprotocol, headers)
        self.opened = True
        self.metrics.opened()

    def websocket_connect(self, message):
        """A process that is stopping takes no one new: 1001 sends the client elsewhere."""
        if drain.current.draining:
            self.refuse(CloseCode.GOING_AWAY)
        else:
            super().websocket_connect(message)

    async def go_away(self):
        """The server is stopping: close with 1001 in this connection's turn, so that
        ``disconnect()`` follows once the client answers, as after any close."""
        async with self.turn:
            if self.opened and not self.closing:
                await sync_to_async(self.close)(code=CloseCode.GOING_AWAY)

    def websocket_disconnect(self, message):
        if self.close_code is None:  # the client closed, or went away (1006)
            self.close_code = message.get("code", 1005)
        super().websocket_disconnect(message)

    def receive(self, text_data=None, bytes_data=None):
        self.metrics.frames_received.inc()
        if self.closing:
            return
        try:
            self.rate_limiter.take()
            self.keep_alive()
            frame = decode(text_data, bytes_data, self.client_types)
            getattr(self, f"on_{frame['type']}")(frame)
        except FrameError as error:
            self.send_frame(error.frame)
        except FrameRefused:
            pass
        except Flooding:
            self.close(code=CloseCode.FLOODING)
        except Exception:
            # A handler that fails ends this connection only, with its traceback in the
            # log, as a failing group event does (handle_event).
            logger.exception("Handling a frame failed")
            self.close(code=SERVER_ERROR_CLOSE["code"], reason=SERVER_ERROR_CLOSE["reason"])

    def close(self, code=None, reason=None):
        self.closing = True
        self.close_code = 1000 if code is None else int(code)
        reason = reason or CLOSE_REASONS.get(code)
        # Daphne's WebSocket library accepts a plain int only, not an IntEnum.
        super().close(code=None if code is None else int(code), reason=reason)

    def keep_alive(self):
        """Called for every frame within the rate, valid or not: the client is alive."""

    def refuse(self, code):
        """End the handshake with ``code``: accept first, as a browser only sees the close
        code of an open socket (and so stops reconnecting). A 4001 says what was wrong
        with the credentials, when the authentication found something."""
        reason = self.scope.get("auth_problem") if code == CloseCode.NOT_AUTHENTICATED else None
        metrics.refused(CloseCode(code).name.lower())
        self.accept()
        self.close(code=code, reason=reason)

    def send_frame(self, frame):
        self.metrics.frames_sent.inc()
        self.send(text_data=encode(frame))

    def group_add(self, group):
        async_to_sync(fanout.join)(group, self)

    def group_discard(self, group):
        async_to_sync(fanout.leave)(group, self)

    def group_send(self, group, event):
        self.metrics.group_sends.inc()
        async_to_sync(self.channel_layer.group_send)(group, event)
