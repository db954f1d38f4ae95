"""Every combination works for real: deployed as its README says, used over the network.

Each combination of the covering set is deployed once (tests/support/deployment.py): ``collectstatic`` and ``migrate``
on a fresh SQLite file, then ``deploy/serve.sh`` with the production settings, behind a
real nginx that runs ``deploy/nginx.conf`` with TLS; users alice, bob and staff, and a
private room of alice and staff. With the redis layer two server processes share a real
Redis behind the one nginx. The tests talk to the deployment as outside clients would:
HTTPS and secure WebSockets through nginx, and plain connections straight to a server
where a test needs to pick the process.
"""

import asyncio
import contextlib
import re
import secrets

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.support.http_client import request
from tests.support.project import PRIVATE_ROOM
from tests.support.scrape import Metrics
from tests.support.websocket import (
    HEALTHY,
    chat_presence_and_notifications_cross,
    close_code,
    drain,
    join,
    message,
    notification,
    presence,
    receive,
    room_name,
    said,
    say,
    send,
    subscribe,
    wait_for_frame,
)

FOREIGN_ORIGIN = "https://evil.example"
OVERSIZED = 70_000  # bytes: over the servers' 64 KiB message limit
TOO_LARGE = 9_000  # bytes: over MAX_FRAME_BYTES (8192), under the servers' limit
FLOOD = 200  # frames at once: 20 pass the rate limit, over 50 are dropped: 4008
# What a client sees when a message exceeds the server's own limit.
SERVER_LIMIT_CLOSE_CODE = {"uvicorn": 1009, "daphne": 1006}

pytestmark = pytest.mark.stage("live")


# --- HTTP -------------------------------------------------------------------------------


def test_http_through_nginx_and_straight_to_the_server(live):
    with live.reporting():
        health = live.http("GET", "/healthz")
        assert health.status == 200, health
        assert health.json() == HEALTHY
        assert "max-age=" in health.headers["Strict-Transport-Security"]

        plain = request(live.proxy.http_port, "GET", "/healthz?x=1")
        assert plain.status == 301, plain
        assert plain.headers["Location"] == "https://localhost/healthz?x=1"

        # A page and its stylesheet, from the collected, hashed static files.
        page = live.http("GET", "/accounts/login/" if live.auth == "session" else "/")
        assert page.status == 200, page
        stylesheet = re.search(r'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"', page.text)
        assert stylesheet, "the page links no stylesheet with a hashed name"
        static = live.http("GET", stylesheet.group(1))
        assert static.status == 200, static

        for port in live.servers.ports:
            direct = request(port, "GET", "/healthz")
            assert direct.status == 200, direct
            assert direct.json() == HEALTHY
            for path in ("/", "/accounts/login/", "/api/notifications/"):
                redirect = request(port, "GET", path)
                assert redirect.status == 301, (path, redirect)
                assert redirect.headers["Location"] == f"https://localhost{path}"
            proxied = live.http("GET", "/", port=port)  # with X-Forwarded-Proto
            assert proxied.status in (200, 302), proxied


def test_sign_in_through_nginx(live):
    """The README's sign-in, over HTTPS through nginx; its credentials open a socket."""

    async def scenario():
        if live.auth == "session":
            anonymous = live.http("GET", "/")
            assert anonymous.status == 302, anonymous
            assert anonymous.headers["Location"].startswith("/accounts/login/")
            browser = live.clients.log_in("alice")
            page = browser.request("GET", "/")
            assert page.status == 200, page
            headers = {"Cookie": f"sessionid={browser.cookies['sessionid']}"}
        else:
            key = live.clients.obtain_token("alice")
            assert key == live.clients.tokens["alice"], "not the same key on every call"
            headers = {"Authorization": f"Token {key}"}
        async with live.websocket("/ws/notifications/", headers=headers) as ws:
            await subscribe(ws, "alice")

    live.run(scenario)


# --- WebSockets ---------------------------------------------------------------------------


def test_echo_round_trip(live):
    async def scenario():
        async with live.websocket("/ws/echo/") as ws:
            for text in ("hello", "żółw 🐢 <b>&amp;</b>", ""):
                await send(ws, {"type": "echo", "text": text})
                assert await receive(ws) == {"type": "echo", "text": text}

    live.run(scenario)


def test_per_message_compression_is_declined(live):
    """Browsers offer permessage-deflate; the server declines it, through nginx and
    straight, so a socket holds no zlib state (the project's docs/performance.md)."""

    async def scenario():
        for server in (None, 0):
            async with live.websocket("/ws/echo/", server=server, compression="deflate") as ws:
                assert "Sec-WebSocket-Extensions" not in ws.response.headers, ws.response.headers
                await send(ws, {"type": "echo", "text": "plain"})
                assert await receive(ws) == {"type": "echo", "text": "plain"}

    live.run(scenario)


def test_identity_comes_from_the_credentials(live):
    room = room_name("identity")

    async def scenario():
        for user in ("alice", "bob"):
            async with live.websocket("/ws/notifications/", user=user) as ws:
                await subscribe(ws, user)
        if live.auth == "token":
            # ?token= identifies as the header does.
            path = f"/ws/notifications/?token={live.clients.tokens['bob']}"
            async with live.websocket(path) as ws:
                await subscribe(ws, "bob")
        # A frame's own "user" is ignored.
        async with live.websocket(f"/ws/chat/{room}/", user="alice") as ws:
            await join(ws, room, "alice", ["alice"])
            await presence(ws, "join", "alice", ["alice"])
            await send(ws, {"type": "message", "text": "hi", "user": "bob"})
            await message(ws, "alice", "hi", room)

    live.run(scenario)


async def enter(ws, room, user, members):
    """Join ``room`` and see one's own arrival announced."""
    await join(ws, room, user, members)
    await presence(ws, "join", user, members)


async def exchange_greetings(alice, bob, room):
    """Both see each message, with its sender's name; returns both messages."""
    await say(alice, "hello bob", client_id="c-1")
    first = await message(alice, "alice", "hello bob", room)
    assert first["client_id"] == "c-1"
    assert await message(bob, "alice", "hello bob", room) == first
    await say(bob, "hi alice")
    reply = await message(bob, "bob", "hi alice", room)
    assert await message(alice, "bob", "hi alice", room) == reply
    assert reply["id"] > first["id"]
    return first, reply


async def resend_reaches_the_sender_alone(alice, bob, room, first):
    """The same client_id again: not stored again, acknowledged to the sender alone
    (the next message bob sees is the one after it). Returns that next message."""
    await say(alice, "hello bob", client_id="c-1")
    assert await message(alice, "alice", "hello bob", room) == first
    await say(alice, "after the resend")
    after = await message(alice, "alice", "after the resend", room)
    assert await message(bob, "alice", "after the resend", room) == after
    return after


async def resume_gets_exactly_what_came_after(live, room, first, later):
    """A connection with ``?since=`` gets the messages after ``first``, once each; one
    without, all of them."""
    async with live.websocket(f"/ws/chat/{room}/?since={first['id']}", user="bob") as bob:
        history = await join(bob, room, "bob", ["bob"])
        assert history["messages"] == later
        assert history["truncated"] is False
    async with live.websocket(f"/ws/chat/{room}/", user="bob") as bob:
        history = await join(bob, room, "bob", ["bob"])
        assert history["messages"] == [first, *later]


def test_chat_between_two_users(live):
    room, other_room = room_name("chat"), room_name("elsewhere")

    async def scenario():
        async with live.websocket(f"/ws/chat/{room}/", user="alice") as alice:
            await enter(alice, room, "alice", ["alice"])
            async with (
                live.websocket(f"/ws/chat/{room}/", user="bob") as bob,
                live.websocket(f"/ws/chat/{other_room}/", user="alice") as outsider,
            ):
                await enter(bob, room, "bob", ["alice", "bob"])
                await presence(alice, "join", "bob", ["alice", "bob"])
                await enter(outsider, other_room, "alice", ["alice"])
                first, reply = await exchange_greetings(alice, bob, room)
                after = await resend_reaches_the_sender_alone(alice, bob, room, first)
                # The other room heard none of it: the next message it sees is its own.
                await say(outsider, "anyone?")
                await message(outsider, "alice", "anyone?", other_room)
            # bob's last connection closed.
            await presence(alice, "leave", "bob", ["alice"])
        await resume_gets_exactly_what_came_after(live, room, first, [reply, after])

    live.run(scenario)


def test_notification_from_staff_reaches_the_user(live):
    async def scenario():
        async with live.websocket("/ws/notifications/", user="alice") as ws:
            await subscribe(ws, "alice")
            payload = {"user": "alice", "text": "export ready", "data": {"n": 1}}
            refused = live.post_notification("bob", payload)
            assert refused.status == 403, refused
            response = live.post_notification("staff", payload)
            frame = await notification(ws, response, "export ready")
            assert frame["data"] == {"n": 1}

    live.run(scenario)


def test_foreign_or_missing_origin(live):
    room = room_name("origin")
    paths = ("/ws/echo/", f"/ws/chat/{room}/", "/ws/notifications/")

    async def refused(path, because, **options):
        """The handshake is refused with 403, and says why where the server lets it."""
        with pytest.raises(InvalidStatus) as raised:
            async with live.websocket(path, **options):
                pass
        response = raised.value.response
        assert response.status_code == 403, (path, response)
        if said(live, because):
            assert response.body.decode() == f"{because}\n", (path, response.body)

    async def scenario():
        foreign = f"the Origin {FOREIGN_ORIGIN} is not one of this site's"
        for path in paths:
            await refused(path, foreign, user="alice", origin=FOREIGN_ORIGIN)
        if live.auth == "session":
            missing = "a handshake without an Origin header is refused"
            for path in paths:
                await refused(path, missing, user="alice", origin=None)
        else:
            async with live.websocket("/ws/echo/", origin=None) as ws:
                await send(ws, {"type": "echo", "text": "no origin"})
                assert (await receive(ws))["text"] == "no origin"
            notifications = "/ws/notifications/"
            async with live.websocket(notifications, user="alice", origin=None) as ws:
                await subscribe(ws, "alice")
        # A room name outside [A-Za-z0-9_-]{1,64}: no route.
        await refused("/ws/chat/no.dots/", "no WebSocket endpoint at this path", user="alice")

    live.run(scenario)


def test_close_codes(live):
    """4001 without credentials, 4003 outside a private room, 4008 for a flood."""

    async def scenario():
        signed_out = "not signed in"
        anonymous = [({}, "/ws/chat/lobby/", signed_out), ({}, "/ws/notifications/", signed_out)]
        if live.auth == "token":  # an unknown key is the same as none, and says so
            unknown = "unknown token: get one from /api/token/"
            bearer = "use 'Authorization: Token <key>', not Bearer"
            anonymous.append(({}, "/ws/chat/lobby/?token=unknown-key", unknown))
            anonymous.append(
                ({"Authorization": "Token unknown-key"}, "/ws/notifications/", unknown)
            )
            anonymous.append(({"Authorization": "Bearer a-key"}, "/ws/notifications/", bearer))
        for headers, path, reason in anonymous:
            async with live.websocket(path, headers=headers) as ws:
                assert await drain(ws) == ([], 4001), path
                assert ws.close_reason == said(live, reason), path

        async with live.websocket(f"/ws/chat/{PRIVATE_ROOM}/", user="bob") as ws:
            assert await drain(ws) == ([], 4003)
            assert ws.close_reason == said(live, "not a member of this private room")
        async with live.websocket(f"/ws/chat/{PRIVATE_ROOM}/", user="alice") as ws:
            await join(ws, PRIVATE_ROOM, "alice", ["alice"])

        async with live.websocket("/ws/echo/") as ws:
            started = asyncio.get_running_loop().time()
            try:
                for number in range(FLOOD):
                    await send(ws, {"type": "echo", "text": str(number)})
            except ConnectionClosed:
                pass
            frames, code = await drain(ws)
            elapsed = asyncio.get_running_loop().time() - started
        live.record("flood", {"frames": len(frames), "s": round(elapsed, 3)})
        limited = [f for f in frames if f.get("code") == "rate_limited"]
        assert 1 <= len(limited) <= 1 + elapsed, frames
        assert code == 4008
        assert ws.close_reason == said(live, "too many frames: slow down, then reconnect")

    live.run(scenario)


def test_frame_limits(live):
    """An 8 KiB+ frame gets ``too_large``; a 70 000-byte one never reaches Python: the
    server ends the connection. Straight to the server the code is exact (Uvicorn
    sends 1009; Daphne drops the TCP connection without a close frame, 1006, as the
    baked README says); through nginx a 1009 may also arrive as 1006 when the server
    closes while nginx is still passing the rest of the message on."""

    async def oversized(server):
        async with live.websocket("/ws/echo/", server=server) as ws:
            await send(ws, {"type": "echo", "text": secrets.token_hex(OVERSIZED // 2)})
            started = asyncio.get_running_loop().time()
            code = await close_code(ws)
            elapsed = asyncio.get_running_loop().time() - started
        where = "nginx" if server is None else "direct"
        live.record(f"oversized_close_{where}", {"code": code, "s": round(elapsed, 3)})
        return code

    async def scenario():
        async with live.websocket("/ws/echo/") as ws:
            await send(ws, {"type": "echo", "text": "x" * TOO_LARGE})
            error = await receive(ws)
            assert (error["type"], error["code"]) == ("error", "too_large"), error
            await send(ws, {"type": "echo", "text": "still open"})
            assert (await receive(ws))["text"] == "still open"

        expected = SERVER_LIMIT_CLOSE_CODE[live.combination["server"]]
        assert await oversized(server=0) == expected
        assert await oversized(server=None) in {expected, 1006}
        # The server lives on.
        async with live.websocket("/ws/echo/") as ws:
            await send(ws, {"type": "echo", "text": "after"})
            assert (await receive(ws))["text"] == "after"

    live.run(scenario)


# --- other processes ----------------------------------------------------------------------


def test_reach_across_processes(live):
    """``manage.py notify`` runs in a process of its own: with the redis layer it reaches
    the open socket live, with the in-memory layer only the next connection's history
    (as the README says). With redis, a chat message, a presence change and a
    notification posted to process A reach a connection held by process B."""
    redis = live.redis_url is not None
    server_a = live.servers.ports[0]

    async def notify_command():
        async with live.websocket("/ws/notifications/", user="alice") as ws:
            await subscribe(ws, "alice")
            await asyncio.to_thread(live.project.manage, "notify", "alice", "from a command")
            if redis:
                await wait_for_frame(ws, type="notification", text="from a command")
            else:  # nothing live: the next frame is one sent after it by the server
                payload = {"user": "alice", "text": "later"}
                response = live.post_notification("staff", payload, port=server_a)
                await notification(ws, response, "later")
        async with live.websocket("/ws/notifications/", user="alice") as ws:
            history = await subscribe(ws, "alice")
            assert "from a command" in [n["text"] for n in history["messages"]]

    async def scenario():
        await notify_command()
        if redis:
            await chat_presence_and_notifications_cross(live, room_name("across"))

    live.run(scenario)


# --- metrics --------------------------------------------------------------------------

SOCKETS = 6  # spread over the servers
PUBLIC_CLIENT = {"X-Forwarded-For": "8.8.8.8"}  # as the servers trust it from nginx
METRICS_TIMEOUT = 30  # seconds for the servers to notice that sockets closed


def scrape(port):
    response = request(port, "GET", "/metrics")
    assert response.status == 200, response
    return Metrics(response.text)


def test_metrics_count_the_sockets_of_every_server_process(live):
    """``/metrics`` of any one server counts the open sockets of all the servers of the
    machine, which share ``PROMETHEUS_MULTIPROC_DIR`` (two with the redis layer), and
    they leave the count when they close. nginx refuses ``/metrics``, token or not; a
    server refuses a public client address without the token."""
    ports = live.servers.ports

    def open_sockets(port):
        return scrape(port)("realtime_sockets_open", endpoint="echo")

    def closed_normally(port):
        return scrape(port)("realtime_closes_total", endpoint="echo", code="1000")

    async def wait_for_open_sockets(count):
        deadline = asyncio.get_running_loop().time() + METRICS_TIMEOUT
        while [open_sockets(port) for port in ports] != [count] * len(ports):
            assert asyncio.get_running_loop().time() < deadline, (
                f"not {count} open sockets within {METRICS_TIMEOUT} s: "
                f"{[open_sockets(port) for port in ports]}"
            )
            await asyncio.sleep(0.1)

    async def scenario():
        before, closes_before = open_sockets(ports[0]), closed_normally(ports[0])
        async with contextlib.AsyncExitStack() as stack:
            for number in range(SOCKETS):
                server = number % len(ports)
                ws = await stack.enter_async_context(live.websocket("/ws/echo/", server=server))
                await send(ws, {"type": "echo", "text": f"to server {server}"})
                assert (await receive(ws))["text"] == f"to server {server}"
            for port in ports:
                assert open_sockets(port) == before + SOCKETS, port
        await wait_for_open_sockets(before)
        assert closed_normally(ports[-1]) == closes_before + SOCKETS

    with live.reporting():
        token = {"Authorization": f"Bearer {live.project.metrics_token}"}
        assert live.http("GET", "/metrics").status == 403
        assert live.http("GET", "/metrics", headers=token).status == 403
        for port in ports:
            assert request(port, "GET", "/metrics", headers=PUBLIC_CLIENT).status == 403
            response = request(port, "GET", "/metrics", headers=PUBLIC_CLIENT | token)
            assert response.status == 200, response
    live.run(scenario)
