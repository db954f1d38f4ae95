"""What every WebSocket endpoint shares: routes and the Origin check."""

import pytest

from config.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

ENDPOINTS = ["/ws/echo/", "/ws/chat/lobby/"]


@pytest.mark.parametrize(
    "path",
    [
        "/ws/nowhere/",
        "/ws/chat/",
        "/ws/chat/with space/",
        "/ws/chat/dots.not.allowed/",
        "/ws/chat/" + "x" * 65 + "/",
        "/ws/chat/lobby/extra/",
    ],
)
async def test_a_path_without_a_route_is_refused_at_the_handshake(connect, alice, path):
    await connect(path, alice, accepted=False)


async def test_room_names_may_use_letters_digits_dash_and_underscore(connect, alice):
    await connect("/ws/chat/" + "Az09_-" * 10 + "abcd/", alice)


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(
    "origin", [b"http://evil.example", b"http://testserver.evil.example", b"null"]
)
async def test_a_foreign_origin_is_refused_at_the_handshake(connect, alice, path, origin):
    await connect(path, alice, origin=(b"origin", origin), accepted=False)


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_an_allowed_origin_is_accepted(connect, alice, path):
    await connect(path, alice, origin=(b"origin", b"http://localhost:8000"))


async def handshake(path, origin):
    """What the application answers to a handshake, under a server that lets it write
    the response to a refused one (Uvicorn)."""
    sent = []

    async def receive():
        return {"type": "websocket.connect"}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "websocket",
        "path": path,
        "query_string": b"",
        "headers": [(b"origin", origin)],
        "extensions": {"websocket.http.response": {}},
    }
    await application(scope, receive, send)
    return sent


@pytest.mark.parametrize(
    ("path", "origin", "reason"),
    [
        ("/ws/nowhere/", b"http://testserver", "no WebSocket endpoint at this path"),
        (
            "/ws/echo/",
            b"http://evil.example",
            "the Origin http://evil.example is not one of this site's",
        ),
    ],
)
async def test_a_refused_handshake_says_why_where_the_server_lets_it(path, origin, reason):
    start, body = await handshake(path, origin)
    assert (start["type"], start["status"]) == ("websocket.http.response.start", 403)
    assert body == {"type": "websocket.http.response.body", "body": f"{reason}\n".encode()}
