"""A connection's outgoing messages, handed to the server by a task of their own."""

import asyncio
from contextlib import suppress


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
