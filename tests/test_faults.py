"""Faults, on live deployments (tests/support/deployment.py) of the covering set.

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

from tests.support.observe import established, log_errors, poll, rss_mb, server_holding
from tests.support.resuming_client import (
    ACK_TIMEOUT,
    RECONNECT_TIMEOUT,
    Delivery,
    ResumingClient,
    catch_up,
    stored_history,
    talk,
)
from tests.support.servers import healthy
from tests.support.websocket import HEALTHY, join, room_name, send, wait_for_frame

HEALTH_RECOVERY_LIMIT = 10  # seconds /healthz may take to see Redis back (the issue's)

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
pytestmark = pytest.mark.stage("faults")


# --- kill -9 ------------------------------------------------------------------------------


async def kill_and_reconnect(live, victim, clients):
    """``kill -9`` the server ``victim``; every client whose socket it held reconnects
    (to the other server, or to this one once restarted). Returns the seconds it took."""
    killed = time.monotonic()
    await asyncio.to_thread(live.servers.kill, victim)
    await clients[0].until(lambda: False, timeout=RECONNECT_TIMEOUT)  # its socket ends
    restart = None
    if len(live.servers.ports) == 1:
        # The restart races the clients' own attempts to reconnect.
        restart = asyncio.create_task(asyncio.to_thread(live.servers.restart, victim))
    for client in clients:
        if not client.connected:
            await client.connect()
    back_after = time.monotonic() - killed
    if restart:
        await restart
    return back_after


def test_a_killed_server_loses_and_doubles_nothing(live):
    """alice and bob talk through nginx; the server holding alice dies with ``kill -9``
    while her message is in flight. With Redis she reconnects through nginx to the
    other process at once; with the in-memory layer after the server's restart. Every
    message is then stored once and seen once by each of them."""
    room = room_name("crash")

    async def scenario():
        alice, bob = (
            ResumingClient(live, room, "alice"),
            ResumingClient(live, room, "bob"),
        )
        victim, _ = await server_holding(live, alice.connect())
        await bob.connect()
        await talk([alice, bob])
        in_flight = await alice.say()
        back_after = await kill_and_reconnect(live, victim, [alice, bob])
        await catch_up(alice, bob, in_flight)
        history = await stored_history(live, room)
        await alice.close()
        await bob.close()

        delivery = Delivery([alice, bob], history)
        live.record(
            "kill_9",
            delivery.figures()
            | {"reconnected_s": round(back_after, 2), "servers": len(live.servers.ports)},
        )
        delivery.assert_exactly_once(21)

    try:
        live.run(scenario)
    finally:
        live.servers.restart_stopped()


# --- Redis restarted -----------------------------------------------------------------------


async def healthz_comes_back(live, server):
    """Redis stopped: /healthz is 503 and names the channel layer. Started again on its
    address: returns the seconds until /healthz is 200 on every process."""
    await asyncio.to_thread(server.stop)
    response = await asyncio.to_thread(live.http, "GET", "/healthz")
    assert response.status == 503, response
    assert response.json()["channel_layer"] != "ok", response.json()
    await asyncio.to_thread(server.start)
    restarted = time.monotonic()
    await poll(
        lambda: all(healthy(port) for port in live.servers.ports),
        HEALTH_RECOVERY_LIMIT * 3,
        "healthy on every process",
    )
    return time.monotonic() - restarted


async def messages_cross_both_ways(live, room):
    """A message sent through one process reaches a socket of the other, both ways."""
    for first, second in ((0, 1), (1, 0)):
        name = f"{room}-{first}"
        async with (
            live.websocket(f"/ws/chat/{name}/", user="alice", server=first) as a,
            live.websocket(f"/ws/chat/{name}/", user="bob", server=second) as b,
        ):
            await join(a, name, "alice", ["alice"])
            await join(b, name, "bob", ["alice", "bob"])
            await send(a, {"type": "message", "text": f"from {first}"})
            for ws in (a, b):
                await wait_for_frame(ws, type="message", text=f"from {first}")


@pytest.mark.only(channel_layer="redis")
def test_the_service_recovers_when_redis_restarts(live, request):
    """Redis goes away: /healthz says 503 naming the channel layer. Redis comes back on
    its address: /healthz is 200 again within 10 seconds on every process, and chat
    messages cross between the processes both ways again, with no retry (connections
    pooled before the restart reconnect on use)."""
    server = request.getfixturevalue("redis")

    async def scenario():
        recovery = await healthz_comes_back(live, server)
        live.record("redis_restart", {"healthz_back_s": round(recovery, 2)})
        assert recovery <= HEALTH_RECOVERY_LIMIT
        assert (await asyncio.to_thread(live.http, "GET", "/healthz")).json() == HEALTHY
        await messages_cross_both_ways(live, room_name("redis-restart"))

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
    sock.connect(("127.0.0.1", live.servers.ports[index]))
    headers = {
        "Host": "localhost",
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
        "Sec-WebSocket-Version": "13",
        "Origin": live.proxy.origin,
        "X-Forwarded-Proto": "https",
        **live.clients.credentials(user),
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


class Traffic:
    """Two senders pushing large messages into a room of server A, and one reader
    timing their delivery; the senders read too, so only the stalled clients stall."""

    def __init__(self, live, room):
        self.live, self.room = live, room
        self.latencies = {}  # message number -> seconds from send to the reader
        self.sent = 0
        self.tasks = []

    async def open(self):
        path = f"/ws/chat/{self.room}/"
        self.senders = [
            await self.live.websocket(path, user="alice", server=0) for _ in range(SENDERS)
        ]
        self.reader = await self.live.websocket(path, user="bob", server=0)
        self.tasks = [asyncio.create_task(self.read())]
        self.tasks += [asyncio.create_task(self.drain(ws)) for ws in self.senders]

    async def read(self):
        async for raw in self.reader:
            frame = json.loads(raw)
            if frame["type"] == "message":
                number, sent_at = frame["client_id"].split("@")
                self.latencies[number] = time.monotonic() - float(sent_at)

    async def drain(self, ws):
        async for _ in ws:
            pass

    async def round(self):
        """BURST messages from each sender, then the rest of a second: within the rate."""
        started = time.monotonic()
        for ws in self.senders:
            for _ in range(BURST):
                self.sent += 1
                frame = {"type": "message", "text": BIG_TEXT}
                frame["client_id"] = f"{self.sent}@{time.monotonic()}"
                await ws.send(json.dumps(frame, ensure_ascii=False))
        return max(0.0, 1 - (time.monotonic() - started))

    async def close(self):
        for ws in [*self.senders, self.reader]:
            await ws.close()
        for task in self.tasks:
            await task


async def stalled_clients_dropped(live):
    """Seconds until the server gave up on the stalled clients (unanswered pings), on
    Daphne, which drops them; Uvicorn sends its close frame and then waits for the
    client to read it, writing nothing more to it meanwhile: None."""
    if live.combination["server"] != "daphne":
        return None
    started = time.monotonic()
    await poll(
        lambda: established(live.servers.ports[0]) == SENDERS + 1,
        DROP_TIMEOUT,
        "the stalled clients dropped",
    )
    return round(time.monotonic() - started, 2)


def test_a_client_that_never_reads_costs_others_nothing(live):
    """Server A runs with short pings. Six clients join a room and never read; two
    others send large messages for 16 seconds, pushing megabytes at each. A reader of
    the room gets every message within seconds, the server's memory stays bounded,
    and the server drops the stalled client once its pings go unanswered."""
    room = room_name("stall")

    async def scenario():
        pid = live.servers[0].popen.pid
        baseline, samples = rss_mb(pid), []  # samples: the memory after each round
        path = f"/ws/chat/{room}/"
        stalled = [
            await asyncio.to_thread(stalled_websocket, live, path, "staff") for _ in range(STALLED)
        ]
        traffic = Traffic(live, room)
        await traffic.open()
        for _ in range(STALL_ROUNDS):
            rest = await traffic.round()
            samples.append(rss_mb(pid))
            await asyncio.sleep(rest)  # a pace, not a wait for something to happen
        await poll(lambda: len(traffic.latencies) == traffic.sent, ACK_TIMEOUT, "delivered")
        samples.append(rss_mb(pid))
        dropped_after = await stalled_clients_dropped(live)
        await traffic.close()
        for sock in stalled:
            sock.close()

        pushed_mb = STALLED * traffic.sent * len(json.dumps(BIG_TEXT)) / 2**20
        middle = samples[len(samples) // 2 - 1]
        live.record(
            "stalled_client",
            {
                "messages": traffic.sent,
                "stalled_clients": STALLED,
                "pushed_to_them_mb": round(pushed_mb, 1),
                "rss_baseline_mb": round(baseline, 1),
                "rss_middle_mb": round(middle, 1),
                "rss_peak_mb": round(max(samples), 1),
                "rss_second_half_growth_mb": round(max(samples[len(samples) // 2 :]) - middle, 1),
                "max_delivery_s": round(max(traffic.latencies.values()), 3),
                "daphne_dropped_it_s_after_stall": dropped_after,
            },
        )
        assert max(traffic.latencies.values()) <= MAX_DELIVERY_SECONDS, traffic.latencies
        assert max(samples) - baseline <= MAX_GROWTH_SHARE * pushed_mb, samples

    with live.servers.running_with(0, **SHORT_PINGS):  # then the production pings again
        live.run(scenario)


# --- a crowd leaves at once ----------------------------------------------------------------


class Crowd:
    """CROWD connections to one room through nginx, shared by the three users."""

    USERS = ("alice", "bob", "staff")

    def __init__(self, live, room):
        self.live, self.room = live, room
        self.sockets = []

    async def open_one(self, number):
        ws = await self.live.websocket(f"/ws/chat/{self.room}/", user=self.USERS[number % 3])
        welcome = json.loads(await asyncio.wait_for(ws.recv(), ACK_TIMEOUT))
        assert welcome["type"] == "welcome", welcome
        return ws

    async def gather(self):
        for start in range(0, CROWD, 50):  # 50 handshakes at a time
            numbers = range(start, min(CROWD, start + 50))
            self.sockets += await asyncio.gather(*(self.open_one(n) for n in numbers))

    async def members(self):
        """The members a new connection of alice's is welcomed with."""
        async with self.live.websocket(f"/ws/chat/{self.room}/", user="alice") as ws:
            welcome = json.loads(await asyncio.wait_for(ws.recv(), ACK_TIMEOUT))
        return welcome["members"]

    async def leave_at_once(self):
        await asyncio.gather(*(ws.close() for ws in self.sockets))


async def group_size_after(live, room):
    """With Redis, the size of the room's channel layer group once it emptied."""
    if not live.redis_url:
        return None
    client = redis.Redis.from_url(live.redis_url)
    try:
        group = f"asgi:group:chat.{room}"
        await poll(lambda: client.zcard(group) == 0, RECONNECT_TIMEOUT, "the group empty")
        return client.zcard(group)
    finally:
        client.close()


def test_a_crowd_leaving_at_once_leaves_nothing_behind(live):
    """200 connections in one room (through nginx, shared by the three users) all close
    at the same moment. No error is logged, the room's members empty, and with Redis
    the room's channel layer group is empty too."""
    room = room_name("crowd")
    log_offsets = [len(server.output()) for server in live.servers]

    async def scenario():
        crowd = Crowd(live, room)
        await crowd.gather()
        assert await crowd.members() == sorted(Crowd.USERS)
        started = time.monotonic()
        await crowd.leave_at_once()
        await poll(
            lambda: sum(established(port) for port in live.servers.ports) == 0,
            RECONNECT_TIMEOUT,
            "every connection closed on the servers",
        )
        settled = time.monotonic() - started

        async def only_the_probe():  # alice's last probe left too
            return await crowd.members() == ["alice"]

        await poll(only_the_probe, PRESENCE_SETTLE, "the members empty")
        settled_members = time.monotonic() - started
        group_size = await group_size_after(live, room)
        errors = [
            line
            for server, offset in zip(live.servers, log_offsets)
            for line in log_errors(server, offset)
        ]
        live.record(
            "crowd",
            {
                "clients": len(crowd.sockets),
                "closed_on_servers_s": round(settled, 2),
                "members_empty_s": round(settled_members, 2),
                "log_errors": len(errors),
                "group_members_after": group_size,
            },
        )
        assert errors == []
        assert group_size in (None, 0)

    live.run(scenario)
