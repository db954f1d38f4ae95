"""Token auth: a REST framework token identifies the user, by header or query string."""

import pytest
from django.urls import reverse

from tests.clients import token_for
from tests.conftest import assert_closed_with

pytestmark = pytest.mark.django_db(transaction=True)


async def test_the_authorization_header_authenticates_the_socket(connect, alice):
    socket = await connect("/ws/chat/lobby/", alice)
    assert (await socket.receive_json_from())["user"] == "alice"


async def test_the_token_query_parameter_authenticates_a_browser_socket(connect, alice):
    socket = await connect(f"/ws/chat/lobby/?token={await token_for(alice)}")
    assert (await socket.receive_json_from())["user"] == "alice"


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ([(b"authorization", b"Token not-a-real-key")], "unknown token: get one from /api/token/"),
        ([(b"authorization", b"Bearer whatever")], "use 'Authorization: Token <key>', not Bearer"),
        ([(b"authorization", b"Token ")], "not signed in"),
    ],
)
async def test_an_unknown_or_malformed_token_is_anonymous_and_told_why(connect, headers, reason):
    socket = await connect("/ws/chat/lobby/", headers=headers)
    await assert_closed_with(socket, 4001, reason)


async def test_an_unknown_token_in_the_query_string_is_anonymous(connect):
    socket = await connect("/ws/chat/lobby/?token=not-a-real-key")
    await assert_closed_with(socket, 4001)


async def test_a_session_cookie_does_not_count(connect, alice, async_client):
    await async_client.aforce_login(alice)
    cookie = async_client.cookies["sessionid"].OutputString(attrs=[]).encode()
    socket = await connect("/ws/chat/lobby/", headers=[(b"cookie", cookie)])
    await assert_closed_with(socket, 4001)


@pytest.mark.parametrize("path", ["/ws/echo/", "/ws/chat/lobby/"])
async def test_a_handshake_without_origin_is_allowed(connect, alice, path):
    await connect(path, alice, origin=None)


@pytest.mark.parametrize("content_type", ["application/json", "multipart/form-data"])
def test_the_token_endpoint_trades_credentials_for_a_token(client, alice, content_type):
    credentials = {"username": "alice", "password": "pw-for-tests"}
    if content_type == "application/json":
        response = client.post(reverse("api-token"), credentials, content_type=content_type)
    else:
        response = client.post(reverse("api-token"), credentials)
    assert response.status_code == 200
    assert response.json() == {"token": alice.auth_token.key}


def test_the_token_endpoint_refuses_a_wrong_password(client, alice):
    response = client.post(reverse("api-token"), {"username": "alice", "password": "nope"})
    assert response.status_code == 400
    assert "token" not in response.json()


def test_the_chat_pages_are_public_and_sign_in_by_script(client):
    response = client.get(reverse("chat:room", args=["lobby"]))
    assert response.status_code == 200
    assert b'data-room="lobby"' in response.content
    assert b'id="sign-in-form"' in response.content


def test_the_notifications_api_ignores_a_session(client, make_user):
    client.force_login(make_user("staff", is_staff=True))
    response = client.post(
        "/api/notifications/", {"user": "staff", "text": "hi"}, content_type="application/json"
    )
    assert response.status_code == 401
