"""A chat client that survives a lost connection as the browser's does."""

import asyncio
import json
import time

from websockets.exceptions import ConnectionClosed, InvalidHandshake

from tests.support.websocket import join, send

RECONNECT_TIMEOUT = 60  # seconds for a client to get back after a server died
RETRY_DELAY = 0.2  # seconds between a client's attempts to reconnect
ACK_TIMEOUT = 30  # seconds for a message to be acknowledged


class ResumingClient:
    """A chat client that survives a lost connection as the browser's does.

    It remembers the id of the last message it saw and the messages it sent that are
    not yet acknowledged (its own message coming back with its ``client_id``). After a
    lost connection it reconnects with ``?since=<last id>`` and sends those again, with
    the same ``client_id``: the server stores each ``client_id`` once. It shows a
    message once, as the page does: a frame whose id it has already shown (a resumed
    connection may get a message live and in its history; a message healed after a
    crash may come twice, see the baked docs/protocol.md) is counted in ``repeated`` and
    dropped. It keeps the room's members as the last welcome or presence frame listed
    them, and the code and reason of every close.
    """

    def __init__(self, live, room, user):
        self.live, self.room, self.user = live, room, user
        self.received = []  # ids of the messages shown, history included, in order
        self.repeated = 0  # message frames dropped: their id was shown already
        self.pending = {}  # client_id -> text: sent, not acknowledged
        self.acknowledged = {}  # client_id -> message id
        self.sent = 0
        self.members = []
        self.closes = []  # (code, reason) of each connection that ended
        self.ws = None
        self.reader = None
        self.progress = asyncio.Event()

    @property
    def connected(self):
        return self.reader is not None and not self.reader.done()

    async def connect(self, timeout=RECONNECT_TIMEOUT):
        """Open (or reopen) the connection, retrying until ``timeout``; resend what is
        pending."""
        started = time.monotonic()
        while True:
            since = f"?since={max(self.received)}" if self.received else ""
            try:
                self.ws = await self.live.websocket(f"/ws/chat/{self.room}/{since}", user=self.user)
                welcome = json.loads(await asyncio.wait_for(self.ws.recv(), ACK_TIMEOUT))
                break
            except (OSError, InvalidHandshake, ConnectionClosed, TimeoutError):
                if time.monotonic() - started > timeout:
                    raise
                await asyncio.sleep(RETRY_DELAY)  # a client's back-off, not a wait
        assert welcome["type"] == "welcome", welcome
        self.members = welcome["members"]
        # The history first: it may acknowledge what was in flight.
        history = json.loads(await asyncio.wait_for(self.ws.recv(), ACK_TIMEOUT))
        assert history["type"] == "history", history
        for message in history["messages"]:
            self.record(message)
        self.reader = asyncio.create_task(self.read())
        for client_id, text in list(self.pending.items()):
            await self.send_message(client_id, text)

    async def read(self):
        try:
            async for raw in self.ws:
                frame = json.loads(raw)
                if frame["type"] == "message":
                    self.record(frame)
                elif frame["type"] == "presence":
                    self.members = frame["members"]
                self.progress.set()
        except ConnectionClosed:
            pass
        self.closes.append((self.ws.close_code, self.ws.close_reason))
        self.progress.set()

    def record(self, message):
        if message["id"] in self.received:
            self.repeated += 1
            return
        self.received.append(message["id"])
        client_id = message.get("client_id")
        if message["user"] == self.user and client_id in self.pending:
            del self.pending[client_id]
            self.acknowledged[client_id] = message["id"]

    async def send_message(self, client_id, text):
        try:
            await send(self.ws, {"type": "message", "text": text, "client_id": client_id})
        except ConnectionClosed:
            pass  # still pending: sent again after reconnecting

    async def say(self):
        """Send the next message of the conversation; return its client_id."""
        self.sent += 1
        client_id = f"{self.user}-{self.sent}"
        self.pending[client_id] = f"{self.user} says {self.sent}"
        await self.send_message(client_id, self.pending[client_id])
        return client_id

    async def until(self, predicate, timeout=ACK_TIMEOUT):
        """Wait until ``predicate()`` holds, or the connection is lost."""
        async with asyncio.timeout(timeout):
            while not predicate() and self.connected:
                self.progress.clear()
                await self.progress.wait()
        return predicate()

    async def acknowledged_soon(self, client_id):
        if not await self.until(lambda: client_id in self.acknowledged):
            raise AssertionError(f"{self.user}: lost the connection before {client_id}")

    async def reconnect_if_lost(self):
        """Reconnect once the connection is lost; at once if it already is."""
        await self.until(lambda: False, timeout=RECONNECT_TIMEOUT)
        await self.connect()

    async def close(self):
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            await self.reader


async def talk(clients, rounds=5):
    """Each client says something in turn, each message acknowledged before the next."""
    for _ in range(rounds):
        for client in clients:
            await client.acknowledged_soon(await client.say())


async def catch_up(alice, bob, in_flight):
    """After a lost connection: alice's message ``in_flight`` is acknowledged, both talk
    on, and bob has seen alice's last message."""
    await alice.acknowledged_soon(in_flight)
    await talk([alice, bob])
    last = max(alice.acknowledged.values())
    await bob.until(lambda: last in bob.received)


async def seconds_until_seen_leaving(leaving, staying, timeout):
    """``leaving`` closes its connection: the seconds until ``staying`` sees itself alone
    in the members."""
    await leaving.close()
    left = time.monotonic()
    await staying.until(lambda: staying.members == [staying.user], timeout=timeout)
    return time.monotonic() - left


async def stored_history(live, room):
    """What the room stored, as a fresh connection of staff's gets it."""
    async with live.websocket(f"/ws/chat/{room}/", user="staff") as ws:
        return await join(ws, room, "staff", ["alice", "bob", "staff"])


class Delivery:
    """What a conversation's clients were told against what the room stored, at its end:
    nothing lost, nothing doubled, nothing missed, when all went well."""

    def __init__(self, clients, history):
        stored = [m["client_id"] for m in history["messages"]]
        ids = {m["id"] for m in history["messages"]}
        self.clients = clients
        self.history = history
        self.acknowledged = {cid: mid for c in clients for cid, mid in c.acknowledged.items()}
        self.lost = [cid for cid in self.acknowledged if cid not in stored]
        self.doubled_stored = len(stored) - len(set(stored))
        self.repeated = {c.user: c.repeated for c in clients}
        self.missed = {c.user: sorted(ids - set(c.received)) for c in clients}

    def figures(self):
        """For ``live.record``."""
        return {
            "acknowledged": len(self.acknowledged),
            "lost": len(self.lost),
            "doubled_stored": self.doubled_stored,
            "repeated_frames": self.repeated,
        }

    def assert_exactly_once(self, messages):
        """``messages`` were sent and acknowledged, each stored once and shown once by
        every client (a client shows each id once; ``repeated_frames`` counts the rest)."""
        __tracebackhide__ = True
        assert len(self.acknowledged) == sum(c.sent for c in self.clients) == messages
        assert all(not c.pending for c in self.clients), {c.user: c.pending for c in self.clients}
        assert self.lost == [] and self.doubled_stored == 0, (self.lost, self.history)
        assert all(not missed for missed in self.missed.values()), self.missed
        assert self.history["truncated"] is False
