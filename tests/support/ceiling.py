"""The ceiling of ``make bench``: a bare ASGI app that speaks just enough of a baked
project's protocol for the load tool (chat rooms and echo), with nothing else on the way.

No Django, no Channels, no authentication, no storage, no limits: a room is a set of the
connections' ``send`` callables, and a message is encoded once and written to each. What
a baked project reaches is measured as a ratio to what this app reaches on the same
server, core and client, in the same run (tests/support/bench.py).

Run it as ``uvicorn ceiling:app --app-dir tests/support --lifespan off``.
"""

import itertools
import json
from contextlib import suppress
from datetime import UTC, datetime

ROOMS = {}  # room name -> the send callables of its connections
MESSAGE_IDS = itertools.count(1)
HEALTHY = json.dumps({"status": "ok"}).encode()


async def app(scope, receive, send):
    if scope["type"] == "http":
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": HEALTHY})
    elif scope["type"] == "websocket":
        await receive()  # websocket.connect
        path = scope["path"]
        if path == "/ws/echo/":
            await echo(receive, send)
        elif path.startswith("/ws/chat/") and path.endswith("/"):
            await chat(path.removeprefix("/ws/chat/").removesuffix("/"), receive, send)
        else:
            await send({"type": "websocket.close", "code": 1000})


async def echo(receive, send):
    await send({"type": "websocket.accept"})
    while (message := await receive())["type"] == "websocket.receive":
        frame = json.loads(message["text"])
        reply = json.dumps({"type": "echo", "text": frame["text"]}, separators=(",", ":"))
        await send({"type": "websocket.send", "text": reply})


async def chat(room, receive, send):
    await send({"type": "websocket.accept"})
    members = ROOMS.setdefault(room, set())
    members.add(send)
    try:
        welcome = {"type": "welcome", "protocol": 1, "room": room, "user": "bench"}
        await send({"type": "websocket.send", "text": json.dumps(welcome | {"members": ["bench"]})})
        history = {"type": "history", "messages": [], "truncated": False}
        await send({"type": "websocket.send", "text": json.dumps(history)})
        while (message := await receive())["type"] == "websocket.receive":
            frame = json.loads(message["text"])
            text = json.dumps(
                {
                    "type": "message",
                    "id": next(MESSAGE_IDS),
                    "room": room,
                    "user": "bench",
                    "text": frame["text"],
                    "ts": datetime.now(UTC).isoformat(),
                    "client_id": frame.get("client_id"),
                },
                separators=(",", ":"),
            )
            for member in list(members):
                with suppress(OSError):  # a member that has just gone
                    await member({"type": "websocket.send", "text": text})
    finally:
        members.discard(send)
