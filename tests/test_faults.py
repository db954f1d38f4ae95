"""Faults, on live deployments (tests/live.py) of the covering combinations.

Each test breaks something the way production breaks it and measures what users would
notice:

- a server process killed with ``kill -9`` in the middle of a conversation: its clients
  reconnect (through nginx to the other process, or to the restarted one) and resume
  with ``since``, sending again what was not acknowledged: nothing lost, nothing doubled;
- Redis restarted: ``/healthz`` says so, and is healthy again within 10 seconds;
- a client that never reads: the others' delivery is not delayed, the server's memory
  stays bounded, and the server drops it once its pings go unanswered;
- 200 clients of one room disconnecting at once: no error in the server logs, nobody
  left in the room's members or channel layer group.

What each test measured goes into the test report (``live.record``); the closing lines
of the run's summary print nothing of it, so use ``-rA`` or junitxml to read it.
"""

import asyncio
import base64
import json
import os
import socket
import time

import pytest
import redis
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from tests.live import DeploymentError, healthy, receive, send
from tests.support.options import COVERING
from tests.test_live import HEALTHY, join, room_name

RECONNECT_TIMEOUT = 60  # seconds for a client to get back after a server died
RETRY_DELAY = 0.2  # seconds between a client's attempts to reconnect
ACK_TIMEOUT = 30  # seconds for a message to be acknowledged
HEALTH_RECOVERY_LIMIT = 10  # seconds /healthz may take to see Redis back (the issue's)
POLL_INTERVAL = 0.1

# The stalled client: pings every 2 s, unanswered for 4 s, so the server drops it
# within seconds (production: 20 + 20, see the baked README).
SHORT_PINGS = {"WS_PING_INTERVAL": "2", "WS_PING_TIMEOUT": "4"}
STALLED = 6  # clients of the room that never read
SENDERS = 2  # connections that talk meanwhile
STALL_ROUNDS = 16  # one round a second: each sender sends BURST frames
BURST = 8  # frames per sender and round, within the rate limit (10 a second)
# 1960 turtles: 7.8 KiB of UTF-8 in (under MAX_FRAME_BYTES), 24 KiB of ASCII-escaped
# JSON out to every reader, so the stalled client's socket fills within a round.
BIG_TEXT = "\N{TURTLE}" * 1960
# The reader's worst delivery time while one client stalls, on a busy CI machine (a
# stalled process would deliver nothing at all).
MAX_DELIVERY_SECONDS = 10
# Bounded memory: Daphne keeps what it sends to a socket until the socket takes it, so
# it is the unanswered ping that ends the stalled client (after 2 + 4 s here); Uvicorn
# stops writing to a full socket, and the channel layer keeps at most 100 messages.
# Either way the server grows by well under what is sent to the stalled clients (a
# server that kept it all would grow by more than that).
MAX_GROWTH_SHARE = 0.5
DROP_TIMEOUT = 15  # seconds after the traffic for Daphne to have dropped it

CROWD = 200  # clients of one room that leave together
# Seconds for their leaving to reach the members; well under PRESENCE_TTL (60), after
# which even a lost leave would expire.
PRESENCE_SETTLE = 20
LOG_ERRORS = ("Traceback", "ERROR", "Exception", "Error:")

pytestmark = [pytest.mark.stage("faults"), pytest.mark.combinations(*COVERING)]


# --- what the operating system can tell --------------------------------------------------


def established(port):
    """Server-side TCP connections established on 127.0.0.1:``port`` (/proc/net/tcp)."""
    count = 0
    with open("/proc/net/tcp") as table:
        next(table)
        for line in table:
            local, _, state = line.split()[1:4]
            count += state == "01" and int(local.rsplit(":", 1)[1], 16) == port
    return count


def rss_mb(pid):
    """The resident memory of process ``pid``, in MiB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise DeploymentError(f"no VmRSS for process {pid}")


def log_errors(process, since):
    """Lines of ``process``'s log written after offset ``since`` that report an error."""
    text = process.output()[since:]
    return [line for line in text.splitlines() if any(e in line for e in LOG_ERRORS)]


async def poll(predicate, timeout, what):
    """Wait until ``predicate()`` (which may be a coroutine function) is true."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not {what} within {timeout} s")
        await asyncio.sleep(POLL_INTERVAL)


# --- a resuming chat client --------------------------------------------------------------


class ResumingClient:
    """A chat client that survives a lost connection as the browser's does.

    It remembers the id of the last message it saw and the messages it sent that are
    not yet acknowledged (its own message coming back with its ``client_id``). After a
    lost connection it reconnects with ``?since=<last id>`` and sends those again, with
    the same ``client_id``: the server stores each ``client_id`` once.
    """

    def __init__(self, live, room, user):
        self.live, self.room, self.user = live, room, user
        self.received = []  # ids of every message frame, history included, in order
        self.pending = {}  # client_id -> text: sent, not acknowledged
        self.acknowledged = {}  # client_id -> message id
        self.sent = 0
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
                self.ws = await self.live.websocket(
                    f"/ws/chat/{self.room}/{since}", user=self.user
                )
                welcome = json.loads(
                    await asyncio.wait_for(self.ws.recv(), ACK_TIMEOUT)
                )
                break
            except (OSError, InvalidHandshake, ConnectionClosed, TimeoutError):
                if time.monotonic() - started > timeout:
                    raise
                await asyncio.sleep(RETRY_DELAY)  # a client's back-off, not a wait
        assert welcome["type"] == "welcome", welcome
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
                self.progress.set()
        except ConnectionClosed:
            pass
        self.progress.set()

    def record(self, message):
        self.received.append(message["id"])
        client_id = message.get("client_id")
        if message["user"] == self.user and client_id in self.pending:
            del self.pending[client_id]
            self.acknowledged[client_id] = message["id"]

    async def send_message(self, client_id, text):
        try:
            await send(
                self.ws, {"type": "message", "text": text, "client_id": client_id}
            )
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

    async def close(self):
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            await self.reader


async def receive_message(ws):
    """The next chat message frame (presence frames in between are skipped)."""
    while True:
        frame = await receive(ws)
        if frame["type"] == "message":
            return frame


def server_holding(live, connect_coroutine):
    """Run ``connect_coroutine`` and tell which server index gained a connection."""

    async def run():
        before = [established(port) for port in live.server_ports]
        result = await connect_coroutine
        after = [established(port) for port in live.server_ports]
        gained = [i for i, (b, a) in enumerate(zip(before, after)) if a > b]
        assert len(gained) == 1, (before, after)
        return gained[0], result

    return run()


# --- kill -9 ------------------------------------------------------------------------------


def test_a_killed_server_loses_and_doubles_nothing(live):
    """alice and bob talk through nginx; the server holding alice dies with ``kill -9``
    while her message is in flight. With Redis she reconnects through nginx to the
    other process at once; with the in-memory layer after the server's restart. Every
    message is then stored once and seen once by each of them."""
    room = room_name("crash")
    two_servers = len(live.server_ports) == 2

    async def scenario():
        alice = ResumingClient(live, room, "alice")
        bob = ResumingClient(live, room, "bob")
        victim, _ = await server_holding(live, alice.connect())
        await bob.connect()
        for _ in range(5):
            for client in (alice, bob):
                await client.acknowledged_soon(await client.say())

        in_flight = await alice.say()
        killed = time.monotonic()
        await asyncio.to_thread(live.kill_server, victim)
        await alice.until(lambda: False, timeout=RECONNECT_TIMEOUT)  # its socket ends
        if not two_servers:
            # The restart races the clients' own attempts to reconnect.
            restart = asyncio.create_task(
                asyncio.to_thread(live.restart_server, victim)
            )
        for client in (alice, bob):
            if not client.connected:
                await client.connect()
        back_after = time.monotonic() - killed
        await alice.acknowledged_soon(in_flight)
        for _ in range(5):
            for client in (alice, bob):
                await client.acknowledged_soon(await client.say())
        last = max(alice.acknowledged.values())
        await bob.until(lambda: last in bob.received)
        if not two_servers:
            await restart

        # A fresh connection's history: what the room stored.
        async with live.websocket(f"/ws/chat/{room}/", user="staff") as ws:
            history = await join(ws, room, "staff", ["alice", "bob", "staff"])
        stored = [m["client_id"] for m in history["messages"]]
        acknowledged = {**alice.acknowledged, **bob.acknowledged}
        lost = [cid for cid in acknowledged if cid not in stored]
        doubled_stored = len(stored) - len(set(stored))
        doubled_seen = {
            c.user: len(c.received) - len(set(c.received)) for c in (alice, bob)
        }
        missed = {
            c.user: sorted({m["id"] for m in history["messages"]} - set(c.received))
            for c in (alice, bob)
        }
        live.record(
            "kill_9",
            {
                "acknowledged": len(acknowledged),
                "lost": len(lost),
                "doubled_stored": doubled_stored,
                "doubled_seen": doubled_seen,
                "reconnected_s": round(back_after, 2),
                "through": "the other process" if two_servers else "the restarted one",
            },
        )
        assert len(acknowledged) == alice.sent + bob.sent == 21
        assert not alice.pending and not bob.pending
        assert lost == [] and doubled_stored == 0, (lost, stored)
        assert doubled_seen == {"alice": 0, "bob": 0}
        assert missed == {"alice": [], "bob": []}
        assert history["truncated"] is False
        await alice.close()
        await bob.close()

    try:
        live.run(scenario)
    finally:
        live.restart_stopped_servers()


# --- Redis restarted -----------------------------------------------------------------------


@pytest.mark.combinations(*(c for c in COVERING if "-redis-" in c))
def test_the_service_recovers_when_redis_restarts(live, request):
    """Redis goes away: /healthz says 503 naming the channel layer. Redis comes back on
    its address: /healthz is 200 again within 10 seconds on every process, and chat
    messages cross between the processes both ways again, with no retry."""
    server = request.getfixturevalue("redis")
    room = room_name("redis-restart")

    async def scenario():
        await asyncio.to_thread(server.stop)
        response = await asyncio.to_thread(live.http, "GET", "/healthz")
        assert response.status == 503, response
        assert response.json()["channel_layer"] != "ok", response.json()

        await asyncio.to_thread(server.start)
        restarted = time.monotonic()
        await poll(
            lambda: all(healthy(port) for port in live.server_ports),
            HEALTH_RECOVERY_LIMIT * 3,
            "healthy on every process",
        )
        recovery = time.monotonic() - restarted
        live.record("redis_restart", {"healthz_back_s": round(recovery, 2)})
        assert recovery <= HEALTH_RECOVERY_LIMIT
        assert (await asyncio.to_thread(live.http, "GET", "/healthz")).json() == HEALTHY

        # No retries: every process serves its next sockets as before, in both
        # directions (connections pooled before the restart reconnect on use).
        for first, second in ((0, 1), (1, 0)):
            path = f"/ws/chat/{room}-{first}/"
            async with (
                live.websocket(path, user="alice", server=first) as a,
                live.websocket(path, user="bob", server=second) as b,
            ):
                await join(a, f"{room}-{first}", "alice", ["alice"])
                await join(b, f"{room}-{first}", "bob", ["alice", "bob"])
                await send(a, {"type": "message", "text": f"from {first}"})
                for ws in (a, b):
                    frame = await receive_message(ws)
                    assert frame["text"] == f"from {first}", frame

    try:
        live.run(scenario)
    finally:
        if server.process.poll() is not None:
            server.start()


# --- a client that never reads -------------------------------------------------------------


def stalled_websocket(live, path, user, index=0):
    """A WebSocket that completes its handshake with server ``index`` and then never
    reads: a small receive buffer, so the server's side fills quickly."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(ACK_TIMEOUT)
    sock.connect(("127.0.0.1", live.server_ports[index]))
    headers = {
        "Host": "localhost",
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
        "Sec-WebSocket-Version": "13",
        "Origin": live.origin,
        "X-Forwarded-Proto": "https",
        **live.credentials(user),
    }
    lines = [f"GET {path} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items())]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    response = b""
    while b"\r\n\r\n" not in response:  # the response head only, byte by byte
        byte = sock.recv(1)
        assert byte, f"closed during the handshake: {response!r}"
        response += byte
    assert response.startswith(b"HTTP/1.1 101"), response
    return sock


def test_a_client_that_never_reads_costs_others_nothing(live):
    """Server A runs with short pings. Six clients join a room and never read; two
    others send large messages for 16 seconds, pushing megabytes at each. A reader of
    the room gets every message within seconds, the server's memory stays bounded,
    and the server drops the stalled client once its pings go unanswered."""
    room = room_name("stall")
    port = live.server_ports[0]

    async def scenario():
        pid = live.servers[0].popen.pid
        baseline = rss_mb(pid)
        stalled = [
            await asyncio.to_thread(
                stalled_websocket, live, f"/ws/chat/{room}/", "staff"
            )
            for _ in range(STALLED)
        ]
        senders = []
        for _ in range(SENDERS):
            senders.append(
                await live.websocket(f"/ws/chat/{room}/", user="alice", server=0)
            )
        reader_ws = await live.websocket(f"/ws/chat/{room}/", user="bob", server=0)
        latencies, samples = {}, []  # samples: the server's memory after each round

        async def read():
            async for raw in reader_ws:
                frame = json.loads(raw)
                if frame["type"] == "message":
                    number, sent_at = frame["client_id"].split("@")
                    latencies[number] = time.monotonic() - float(sent_at)

        async def drain(ws):  # the senders read, so only one client stalls
            async for _ in ws:
                pass

        tasks = [asyncio.create_task(read())]
        tasks += [asyncio.create_task(drain(ws)) for ws in senders]
        sent = 0
        for _ in range(STALL_ROUNDS):
            round_started = time.monotonic()
            for ws in senders:
                for _ in range(BURST):
                    sent += 1
                    frame = {"type": "message", "text": BIG_TEXT}
                    frame["client_id"] = f"{sent}@{time.monotonic()}"
                    await ws.send(json.dumps(frame, ensure_ascii=False))
            samples.append(rss_mb(pid))
            # One round a second keeps the senders within the rate limit.
            await asyncio.sleep(max(0.0, 1 - (time.monotonic() - round_started)))
        await poll(lambda: len(latencies) == sent, ACK_TIMEOUT, "all delivered")
        samples.append(rss_mb(pid))
        # The server gives up on the stalled clients once their pings go unanswered:
        # Daphne drops them; Uvicorn sends its close frame, then waits for the client to
        # read that (with nothing more written to it meanwhile).
        started, dropped_after = time.monotonic(), None
        if live.combination["server"] == "daphne":
            await poll(
                lambda: established(port) == SENDERS + 1,
                DROP_TIMEOUT,
                "the stalled clients dropped",
            )
            dropped_after = round(time.monotonic() - started, 2)
        for ws in [*senders, reader_ws]:
            await ws.close()
        for task in tasks:
            await task
        for sock in stalled:
            sock.close()
        pushed_mb = STALLED * sent * len(json.dumps(BIG_TEXT)) / 2**20
        middle = samples[len(samples) // 2 - 1]
        second_half_growth = max(samples[len(samples) // 2 :]) - middle
        live.record(
            "stalled_client",
            {
                "messages": sent,
                "stalled_clients": STALLED,
                "pushed_to_them_mb": round(pushed_mb, 1),
                "rss_baseline_mb": round(baseline, 1),
                "rss_middle_mb": round(middle, 1),
                "rss_peak_mb": round(max(samples), 1),
                "rss_second_half_growth_mb": round(second_half_growth, 1),
                "delivered": len(latencies),
                "max_delivery_s": round(max(latencies.values()), 3),
                "daphne_dropped_it_s_after_stall": dropped_after,
            },
        )
        assert max(latencies.values()) <= MAX_DELIVERY_SECONDS, latencies
        assert max(samples) - baseline <= MAX_GROWTH_SHARE * pushed_mb, samples

    try:
        live.stop_server(0)
        live.restart_server(0, **SHORT_PINGS)
        live.run(scenario)
    finally:  # back to the production pings for the other tests
        live.stop_server(0)
        live.restart_server(0)


# --- a crowd leaves at once ----------------------------------------------------------------


def test_a_crowd_leaving_at_once_leaves_nothing_behind(live):
    """200 connections in one room (through nginx, shared by the three users) all close
    at the same moment. No error is logged, the room's members empty, and with Redis
    the room's channel layer group is empty too."""
    room = room_name("crowd")
    users = ("alice", "bob", "staff")
    log_offsets = [len(server.output()) for server in live.servers]

    async def open_one(number):
        ws = await live.websocket(f"/ws/chat/{room}/", user=users[number % 3])
        welcome = json.loads(await asyncio.wait_for(ws.recv(), ACK_TIMEOUT))
        assert welcome["type"] == "welcome", welcome
        return ws

    async def members_now():
        async with live.websocket(f"/ws/chat/{room}/", user="alice") as ws:
            welcome = json.loads(await asyncio.wait_for(ws.recv(), ACK_TIMEOUT))
        return welcome["members"]

    async def scenario():
        crowd = []
        for start in range(0, CROWD, 50):  # 50 handshakes at a time
            crowd += await asyncio.gather(
                *(open_one(n) for n in range(start, min(CROWD, start + 50)))
            )
        assert await members_now() == sorted(users)
        started = time.monotonic()
        await asyncio.gather(*(ws.close() for ws in crowd))
        await poll(
            lambda: sum(established(port) for port in live.server_ports) == 0,
            RECONNECT_TIMEOUT,
            "every connection closed on the servers",
        )
        settled = time.monotonic() - started

        # alice's last probe leaves too: nobody but a new probe is in the room.
        async def only_the_probe():
            return await members_now() == ["alice"]

        await poll(only_the_probe, PRESENCE_SETTLE, "the members empty")
        settled_members = time.monotonic() - started
        group_size = None
        if live.redis_url:  # the probe left last: the group empties
            client = redis.Redis.from_url(live.redis_url)
            try:
                group = f"asgi:group:chat.{room}"
                await poll(
                    lambda: client.zcard(group) == 0,
                    RECONNECT_TIMEOUT,
                    "the room's group empty",
                )
                group_size = client.zcard(group)
            finally:
                client.close()
        errors = [
            line
            for server, offset in zip(live.servers, log_offsets)
            for line in log_errors(server, offset)
        ]
        live.record(
            "crowd",
            {
                "clients": len(crowd),
                "closed_on_servers_s": round(settled, 2),
                "members_empty_s": round(settled_members, 2),
                "log_errors": len(errors),
                "group_members_after": group_size,
            },
        )
        assert errors == []
        assert group_size in (None, 0)

    live.run(scenario)
