"""The base of every WebSocket endpoint: JSON frames in, limits applied, handlers called.

Channels runs each handler of a sync consumer in a worker thread, so handlers call the
ORM directly and reach the channel layer through ``async_to_sync``.
"""

import asyncio
from contextlib import suppress
from functools import cached_property

from asgiref.sync import async_to_sync
from channels.generic.websocket import WebsocketConsumer
from django.conf import settings

from {{ cookiecutter.project_slug }}.realtime.limits import Flooding, RateLimiter
from {{ cookiecutter.project_slug }}.realtime.protocol import (
    CloseCode,
    FrameError,
    FrameRefused,
    decode,
    encode,
)


class SendQueue:
    """The messages a connection sends, handed to the server by a task of their own.

    Channels runs the handlers of every sync consumer of a process in one thread, and a
    server's ``send`` may wait while the client's socket is full (Uvicorn's does). Were
    the handler to wait there, a client that stops reading would hold that one thread
    and every other connection of the process would wait with it. :meth:`put` only
    queues: at most ``capacity`` frames, further ones are dropped, as the channel layer
    drops messages for a channel nobody reads (history keeps them). The server's ping
    timeout then ends the stalled connection.
    """

    def __init__(self, send, capacity):
        self.send = send
        self.capacity = capacity
        self.queue = asyncio.Queue()
        self.writer = None

    async def put(self, message):
        if message["type"] == "websocket.send" and self.queue.qsize() >= self.capacity:
            return
        self.queue.put_nowait(message)
        if self.writer is None:
            self.writer = asyncio.create_task(self.write())

    async def write(self):
        try:
            while True:
                await self.send(await self.queue.get())
        except OSError:
            # The client is gone (Uvicorn raises ClientDisconnected); the consumer goes
            # on to its websocket.disconnect, and so leaves its groups and presence.
            pass

    async def close(self):
        """Stop sending (the connection is over); raise what sending raised, if anything."""
        if self.writer is None:
            return
        self.writer.cancel()
        with suppress(asyncio.CancelledError):
            await self.writer


class FrameConsumer(WebsocketConsumer):
    """Takes each client frame through the rate limit and :func:`decode`, then calls
    ``on_<type>(frame)``. Subclasses list their frame types in ``client_types``.

    A refused frame gets an ``error`` frame and the connection stays open; one that keeps
    flooding is closed with 4008.
    """

    client_types = frozenset()
    # Set once the server closes the connection: frames still in flight are ignored.
    closing = False

    async def __call__(self, scope, receive, send):
        queue = SendQueue(send, capacity=settings.CHANNEL_LAYER_CAPACITY)
        try:
            await super().__call__(scope, receive, queue.put)
        finally:
            await queue.close()

    @cached_property
    def rate_limiter(self):
        return RateLimiter.from_settings()

    def receive(self, text_data=None, bytes_data=None):
        if self.closing:
            return
        try:
            self.rate_limiter.take()
            self.keep_alive()
            frame = decode(text_data, bytes_data, self.client_types)
            # decode() admits only client_types, each with its on_<type> handler.
            getattr(self, f"on_{frame['type']}")(frame)
        except FrameError as error:
            self.send_frame(error.frame)
        except FrameRefused:
            pass
        except Flooding:
            self.close(code=CloseCode.FLOODING)

    def close(self, code=None, reason=None):
        self.closing = True
        # Daphne's WebSocket library accepts a plain int only, not an IntEnum.
        super().close(code=None if code is None else int(code), reason=reason)

    def keep_alive(self):
        """Called for every frame within the rate, valid or not: the client is alive."""

    def refuse(self, code):
        """End the handshake with ``code``: accept first, as a browser only sees the close
        code of an open socket (and so stops reconnecting)."""
        self.accept()
        self.close(code=code)

    def realtime_frame(self, event):
        """A frame from the group, built by :func:`group_event`."""
        if event["exclude"] != self.channel_name:
            self.send(text_data=event["text"])

    def send_frame(self, frame):
        self.send(text_data=encode(frame))

    def group_add(self, group):
        async_to_sync(self.channel_layer.group_add)(group, self.channel_name)

    def group_discard(self, group):
        async_to_sync(self.channel_layer.group_discard)(group, self.channel_name)

    def group_send(self, group, event):
        async_to_sync(self.channel_layer.group_send)(group, event)
