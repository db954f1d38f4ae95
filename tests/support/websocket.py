"""Talking to a live deployment over WebSockets, as an outside client would.

Frames are JSON objects. A test waits for the frame it needs (:func:`wait_for_frame`):
frames that the protocol lets arrive in between (presence, typing) are passed over, any
other frame fails the test. The protocol's steps (:func:`join`, :func:`say`,
:func:`message`, ...) are written with it, so that tests read as a conversation.
"""

import asyncio
import json
import secrets

from websockets.exceptions import ConnectionClosed

FRAME_TIMEOUT = 30  # seconds to wait for one expected frame on a busy machine
# Frames the protocol lets arrive between any two others: who came or went, who types.
INTERLEAVING = frozenset({"presence", "typing"})
HEALTHY = {"status": "ok", "database": "ok", "channel_layer": "ok"}


def said(live, reason):
    """What a client reads of a close's or a refusal's reason: Uvicorn passes it on;
    Daphne sends the close code alone (django/daphne#374) and a 403 of its own."""
    return reason if live.combination["server"] == "uvicorn" else ""


def room_name(label):
    """A fresh room per test: a deployment outlives its tests."""
    return f"{label}-{secrets.token_hex(4)}"


async def send(ws, frame):
    await ws.send(json.dumps(frame))


async def receive(ws, timeout=FRAME_TIMEOUT):
    """The next frame, decoded, where the protocol fixes what comes next (the first
    frames of a connection, an echo); fails after ``timeout`` seconds."""
    async with asyncio.timeout(timeout):
        return json.loads(await ws.recv())


async def wait_for_frames(ws, *expected, timeout=FRAME_TIMEOUT):
    """Receive until every frame of ``expected`` came, in whatever order; return them in
    the order of ``expected``.

    Each expected frame is a dict of the keys and values it must have. A frame that
    matches none of them is passed over when its type may interleave (INTERLEAVING);
    any other frame fails the test.
    """
    found = [None] * len(expected)
    passed_over = []
    try:
        async with asyncio.timeout(timeout):
            while None in found:
                frame = json.loads(await ws.recv())
                for index, wanted in enumerate(expected):
                    if found[index] is None and wanted.items() <= frame.items():
                        found[index] = frame
                        break
                else:
                    assert frame.get("type") in INTERLEAVING, f"waiting for {expected}, got {frame}"
                    passed_over.append(frame)
    except TimeoutError:
        missing = [e for e, f in zip(expected, found, strict=True) if f is None]
        raise AssertionError(
            f"no frame {missing} within {timeout} s; passed over {passed_over}"
        ) from None
    return found


async def wait_for_frame(ws, timeout=FRAME_TIMEOUT, **expected):
    """The first frame with ``expected``'s keys and values (see :func:`wait_for_frames`)."""
    [frame] = await wait_for_frames(ws, expected, timeout=timeout)
    return frame


async def close_code(ws, timeout=FRAME_TIMEOUT):
    """Wait for the server to end the connection; return the close code it sent
    (1006 when the connection ended without a close frame). Any frame fails."""
    try:
        async with asyncio.timeout(timeout):
            frame = await ws.recv()
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else 1006
    raise AssertionError(f"expected the connection to close, got a frame: {frame[:300]!r}")


async def drain(ws, timeout=FRAME_TIMEOUT):
    """Every frame until the server ends the connection: (frames, close code)."""
    frames = []
    try:
        async with asyncio.timeout(timeout):
            while True:
                frames.append(json.loads(await ws.recv()))
    except ConnectionClosed as closed:
        return frames, closed.rcvd.code if closed.rcvd is not None else 1006


# --- the protocol's steps -------------------------------------------------------------


async def join(ws, room, user, members):
    """The two frames every chat connection starts with; returns the history."""
    assert await receive(ws) == {
        "type": "welcome",
        "protocol": 1,
        "room": room,
        "user": user,
        "members": members,
    }
    history = await receive(ws)
    assert history["type"] == "history", history
    return history


async def subscribe(ws, user):
    """The two frames every notifications connection starts with; returns the history."""
    assert await receive(ws) == {"type": "welcome", "protocol": 1, "user": user}
    history = await receive(ws)
    assert history["type"] == "history", history
    return history


async def presence(ws, event, user, members):
    """Wait for the presence frame of ``user``'s ``event`` with ``members`` after it."""
    return await wait_for_frame(ws, type="presence", event=event, user=user, members=members)


async def say(ws, text, client_id=None):
    frame = {"type": "message", "text": text}
    if client_id is not None:
        frame["client_id"] = client_id
    await send(ws, frame)


async def message(ws, user, text, room):
    """Wait for the chat message in ``room`` from ``user`` with ``text``; any other
    message before it fails the test."""
    frame = await wait_for_frame(ws, type="message", room=room, user=user, text=text)
    assert isinstance(frame["id"], int), frame
    return frame


async def notification(ws, response, text):
    """Wait for the notification that ``response`` (a 201) says was sent."""
    assert response.status == 201, response
    return await wait_for_frame(ws, type="notification", id=response.json()["id"], text=text)


async def chat_presence_and_notifications_cross(live, room, in_redis=None):
    """alice on server A and bob on server B: each sees the other join (presence), the
    other's message (chat), and bob gets a notification posted to server A. ``in_redis``,
    if given, is called while both are in the room (to look at what Redis holds)."""
    async with live.websocket(f"/ws/chat/{room}/", user="alice", server=0) as alice:
        await join(alice, room, "alice", ["alice"])
        await presence(alice, "join", "alice", ["alice"])
        async with live.websocket(f"/ws/chat/{room}/", user="bob", server=1) as bob:
            await join(bob, room, "bob", ["alice", "bob"])
            await presence(bob, "join", "bob", ["alice", "bob"])
            await presence(alice, "join", "bob", ["alice", "bob"])
            if in_redis:
                in_redis()
            await say(alice, "from A")
            sent = await message(alice, "alice", "from A", room)
            assert await message(bob, "alice", "from A", room) == sent
            await say(bob, "from B")
            sent = await message(bob, "bob", "from B", room)
            assert await message(alice, "bob", "from B", room) == sent
        await presence(alice, "leave", "bob", ["alice"])
    async with live.websocket("/ws/notifications/", user="bob", server=1) as bob:
        await subscribe(bob, "bob")
        payload = {"user": "bob", "text": f"posted to A ({room})"}
        response = live.post_notification("staff", payload, port=live.servers.ports[0])
        await notification(bob, response, payload["text"])
