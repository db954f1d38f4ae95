"""A connection's outgoing messages: sent at once when nothing waits, else queued and
written by a task of their own."""

import asyncio
from contextlib import suppress

from {{ cookiecutter.project_slug }}.realtime.disconnects import CLIENT_GONE


class SendQueue:
    """The messages a connection sends.

    A server's ``send`` may wait while the client's socket is full (Uvicorn's does). Were
    the sender to wait there, a client that stops reading would hold it: the thread that
    runs the handlers of every sync consumer of a process, or the fan-out that writes a
    room's frames to each of its members (``realtime/fanout.py``). So frames from groups
    (:meth:`deliver`), and every message of a sync consumer (``direct=False``), are only
    queued, and a task writes them while there are any: at most ``capacity`` frames,
    further ones are dropped, as the channel layer drops messages for a channel nobody
    reads (history keeps them). The server's ping timeout then ends the stalled
    connection. An async consumer's own messages are sent at once when nothing is queued:
    only that consumer waits for its client.

    Frames from groups wait while the handshake is under way (:meth:`release`), so that
    what ``connect()`` sends (``welcome``, ``history``) comes first, as it does when
    Channels delivers group messages to the consumer once ``connect()`` has returned.

    A client that has gone makes the server's ``send`` raise (``CLIENT_GONE``): from then
    on nothing is sent, and the consumer goes on to its ``websocket.disconnect``, and so
    leaves its groups and presence.
    """

    def __init__(self, send, capacity, *, direct):
        self.send = send
        self.capacity = capacity
        self.direct = direct
        self.pending = []  # a list: an empty deque takes ten times its memory, per socket
        self.busy = False  # a message is being sent, by put() or by the writer task
        self.writer = None
        self.held = []  # frames from groups during the handshake; None once it is over
        self.gone = False
        self.failure = None  # what else the writer's sending raised, for close()

    async def put(self, message):
        """A message of the consumer itself."""
        if not self.direct or self.busy or self.pending:
            self.put_nowait(message)
            return
        self.busy = True
        try:
            await self.send_one(message)
        finally:
            self.busy = False
        self.start_writer()  # for what was queued meanwhile

    def put_nowait(self, message):
        full = message["type"] == "websocket.send" and len(self.pending) >= self.capacity
        if full or self.gone:
            return
        self.pending.append(message)
        self.start_writer()

    def deliver(self, message):
        """A frame from a group: one ``websocket.send`` message shared by its members."""
        if self.held is None:
            self.put_nowait(message)
        elif len(self.held) < self.capacity:
            self.held.append(message)

    def release(self):
        """The handshake is over: the frames from groups follow what it sent."""
        held, self.held = self.held or [], None
        for message in held:
            self.put_nowait(message)

    def start_writer(self):
        if self.pending and not self.busy:
            self.busy = True
            # Started eagerly: when the server takes the frames without waiting, they are
            # written now, and no task is left behind.
            writer = asyncio.Task(self.write(), loop=asyncio.get_running_loop(), eager_start=True)
            self.writer = None if writer.done() else writer

    async def write(self):
        """Write what is queued, then end: an idle connection holds no task."""
        try:
            while self.pending:
                await self.send_one(self.pending.pop(0))
        except Exception as error:  # raised again by close(), once the consumer is done
            self.failure = error
            self.gone = True
        finally:
            self.busy = False

    async def send_one(self, message):
        if self.gone:
            return
        try:
            await self.send(message)
        except CLIENT_GONE:
            self.gone = True
            self.pending.clear()

    async def close(self):
        """Stop sending (the connection is over); raise what sending raised, if anything."""
        if self.writer is not None and not self.writer.done():
            self.writer.cancel()
            with suppress(asyncio.CancelledError):
                await self.writer
        if self.failure is not None:
            raise self.failure
