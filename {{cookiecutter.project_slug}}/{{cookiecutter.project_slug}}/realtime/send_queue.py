"""A connection's outgoing messages, handed to the server by a task of their own."""

import asyncio
from collections import deque
from contextlib import suppress


class SendQueue:
    """The messages a connection sends, handed to the server by a task of their own.

    A server's ``send`` may wait while the client's socket is full (Uvicorn's does). Were
    the sender to wait there, a client that stops reading would hold it: the thread that
    runs the handlers of every sync consumer of a process, or the fan-out that writes a
    room's frames to each of its members (``realtime/fanout.py``). :meth:`put` only
    queues: at most ``capacity`` frames, further ones are dropped, as the channel layer
    drops messages for a channel nobody reads (history keeps them). The server's ping
    timeout then ends the stalled connection.

    Frames from groups wait while the handshake is under way (:meth:`release`), so that
    what ``connect()`` sends (``welcome``, ``history``) comes first, as it does when
    Channels delivers group messages to the consumer once ``connect()`` has returned.
    """

    def __init__(self, send, capacity):
        self.send = send
        self.capacity = capacity
        self.pending = deque()
        self.writer = None
        self.held = []  # frames from groups during the handshake; None once it is over
        self.gone = False  # sending failed: the client has gone
        self.failure = None  # what else sending raised, for close()

    async def put(self, message):
        self.put_nowait(message)

    def put_nowait(self, message):
        full = message["type"] == "websocket.send" and len(self.pending) >= self.capacity
        if full or self.gone:
            return
        self.pending.append(message)
        if self.writer is None:
            self.writer = asyncio.create_task(self.write())

    def deliver(self, text):
        """A frame from a group (already encoded)."""
        message = {"type": "websocket.send", "text": text}
        if self.held is None:
            self.put_nowait(message)
        elif len(self.held) < self.capacity:
            self.held.append(message)

    def release(self):
        """The handshake is over: the frames from groups follow what it sent."""
        held, self.held = self.held or [], None
        for message in held:
            self.put_nowait(message)

    async def write(self):
        """Write what is queued, then end: an idle connection holds no task."""
        try:
            while self.pending:
                await self.send(self.pending.popleft())
        except OSError:
            # The client is gone (Uvicorn raises ClientDisconnected); the consumer goes
            # on to its websocket.disconnect, and so leaves its groups and presence.
            self.gone = True
        except Exception as error:  # raised again by close()
            self.failure = error
            self.gone = True
        finally:
            self.writer = None

    async def close(self):
        """Stop sending (the connection is over); raise what sending raised, if anything."""
        if self.writer is not None:
            self.writer.cancel()
            with suppress(asyncio.CancelledError):
                await self.writer
        if self.failure is not None:
            raise self.failure
