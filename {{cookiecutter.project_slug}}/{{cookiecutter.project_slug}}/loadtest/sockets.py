"""Opening the run's WebSockets and reading the frames the protocol sends first."""

import asyncio
import itertools
import json

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

OPEN_TIMEOUT = 30  # seconds for one handshake and its first frames, on a loaded server


class Refused(Exception):
    """The server would not let the tool in; the message says how it refused."""


class Run:
    """Where the sockets go and who they are: shared by every scenario."""

    def __init__(self, servers, headers, progress):
        self.servers = itertools.cycle(servers)  # several: each socket to the next one
        self.headers = headers
        self.progress = progress

    async def open(self, path):
        """A connected socket (no background pings: the server's pings are answered)."""
        server = next(self.servers)
        try:
            return await connect(
                server.websocket_url(path),
                origin=server.origin,
                additional_headers=self.headers,
                compression=None,
                max_size=None,
                ping_interval=None,
                open_timeout=OPEN_TIMEOUT,
                close_timeout=2,
                proxy=None,
            )
        except InvalidStatus as error:
            raise Refused(
                f"{path}: the handshake was refused (HTTP {error.response.status_code})"
            ) from None

    async def join(self, room):
        """A socket in ``room``, past its ``welcome`` and ``history`` frames."""
        socket = await self.open(f"/ws/chat/{room}/")
        await first_frame(socket, "welcome")
        await first_frame(socket, "history")
        return socket

    async def open_many(self, count, open_one, *, concurrency, label):
        """``count`` sockets from ``open_one(index)``, ``concurrency`` at a time."""
        sockets = [None] * count
        limit = asyncio.Semaphore(concurrency)
        opened = 0

        async def one(index):
            nonlocal opened
            async with limit:
                sockets[index] = await open_one(index)
            opened += 1
            self.progress.show(label, opened, count)

        try:
            await asyncio.gather(*(one(index) for index in range(count)))
        except BaseException:
            await close_all(socket for socket in sockets if socket is not None)
            raise
        finally:
            self.progress.done()
        return sockets


async def first_frame(socket, expected_type):
    """Read until the frame of ``expected_type``; other frames of the protocol that may
    come first (presence of others) are passed over. A close says why it was refused."""
    while True:
        try:
            frame = json.loads(await asyncio.wait_for(socket.recv(), OPEN_TIMEOUT))
        except ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd else 1006
            reason = closed.rcvd.reason if closed.rcvd else ""
            raise Refused(f"the server closed the socket with {code} {reason}".rstrip()) from None
        except TimeoutError:
            raise Refused(f"no {expected_type} frame within {OPEN_TIMEOUT} s") from None
        if frame.get("type") == expected_type:
            return frame
        if frame.get("type") == "error":
            raise Refused(f"the server answered an error frame: {frame}")


async def close_all(sockets):
    await asyncio.gather(*(socket.close() for socket in sockets), return_exceptions=True)
