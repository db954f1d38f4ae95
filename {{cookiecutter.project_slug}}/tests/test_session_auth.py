"""Session auth: the session cookie identifies the user; sockets need our own Origin."""

import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import reverse

from {{ cookiecutter.project_slug }}.realtime.auth import websocket_security

from tests.clients import credentials
from tests.conftest import SAME_ORIGIN, assert_closed_with

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_logged_in_session_cookie_authenticates_the_socket(connect, alice):
    socket = await connect("/ws/chat/lobby/", alice)
    assert (await socket.receive_json_from())["user"] == "alice"


async def test_an_unknown_session_cookie_is_anonymous(connect):
    socket = await connect("/ws/chat/lobby/", headers=[(b"cookie", b"sessionid=forged")])
    await assert_closed_with(socket, 4001)


async def test_a_socket_sends_through_the_server_itself(alice):
    """The session middleware resolves the user and leaves ``send`` alone: a room's
    deliveries do not pass through its session checks (docs/performance.md)."""
    seen = {}

    async def application(scope, receive, send):
        seen.update(user=scope["user"].username, send=send)
        await receive()
        await send({"type": "websocket.close"})

    headers = [*await credentials(alice), SAME_ORIGIN]
    communicator = WebsocketCommunicator(websocket_security(application), "/ws/", headers)
    connected, _ = await communicator.connect()
    assert not connected
    assert seen == {"user": "alice", "send": communicator.output_queue.put}


@pytest.mark.parametrize("path", ["/ws/echo/", "/ws/chat/lobby/"])
async def test_a_handshake_without_origin_is_refused(connect, alice, path):
    await connect(path, alice, origin=None, accepted=False)


def test_the_chat_pages_send_anonymous_users_to_log_in(client):
    for url in (reverse("chat:index"), reverse("chat:room", args=["lobby"])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_logging_in_leads_to_the_chat_page(client, alice):
    response = client.post(
        reverse("login"), {"username": "alice", "password": "pw-for-tests"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("chat:index")
    assert response.context["user"] == alice


def test_the_room_page_names_its_room(client, alice):
    client.force_login(alice)
    response = client.get(reverse("chat:room", args=["lobby"]))
    assert response.status_code == 200
    assert b'data-room="lobby"' in response.content


def test_the_notifications_api_checks_csrf_for_a_session(alice, make_user):
    staff = make_user("staff", is_staff=True)
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    payload = {"user": "alice", "text": "hi"}
    response = client.post("/api/notifications/", payload, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
