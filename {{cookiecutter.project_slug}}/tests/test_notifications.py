"""``/ws/notifications/``, ``POST /api/notifications/`` and ``manage.py notify``."""

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.core.management import CommandError, call_command

from {{ cookiecutter.project_slug }}.notifications import protocol as notifications
from {{ cookiecutter.project_slug }}.notifications.models import Notification
from {{ cookiecutter.project_slug }}.notifications.services import send_notification
from {{ cookiecutter.project_slug }}.realtime.protocol import group_event

from tests.clients import authenticate_http
from tests.conftest import assert_closed_with, wait_for_frame

pytestmark = pytest.mark.django_db(transaction=True)
URL = "/api/notifications/"


async def subscribe(connect, user, query=""):
    socket = await connect(f"/ws/notifications/{query}", user)
    assert await socket.receive_json_from() == {
        "type": "welcome",
        "protocol": 1,
        "user": user.username,
    }
    history = await socket.receive_json_from()
    assert history["type"] == "history"
    return socket, history


@database_sync_to_async
def notify(user, count):
    return [send_notification(user, f"note {n}", {"n": n}).id for n in range(count)]


async def test_an_anonymous_user_is_closed_with_4001_before_any_frame(connect):
    socket = await connect("/ws/notifications/")
    await assert_closed_with(socket, 4001)


async def test_a_notification_is_stored_then_pushed_to_every_connection_of_its_user(
    connect, alice, bob
):
    tabs = [(await subscribe(connect, alice))[0] for _ in range(2)]
    bob_socket, _ = await subscribe(connect, bob)
    [note_id] = await notify(alice, 1)
    for tab in tabs:
        frame = await wait_for_frame(tab, type="notification")
        assert frame == {
            "type": "notification",
            "id": note_id,
            "text": "note 0",
            "data": {"n": 0},
            "ts": frame["ts"],
        }
    assert await bob_socket.receive_nothing()


async def test_history_holds_the_last_50_and_since_resumes(connect, alice, settings):
    ids = await notify(alice, 53)
    _, history = await subscribe(connect, alice)
    assert [n["id"] for n in history["messages"]] == ids[-50:]
    assert history["truncated"] is True
    _, history = await subscribe(connect, alice, f"?since={ids[50]}")
    assert [n["id"] for n in history["messages"]] == ids[51:]
    assert history["truncated"] is False


async def test_since_returns_at_most_the_limit(connect, alice, settings):
    settings.NOTIFICATIONS_SINCE_LIMIT = 2
    ids = await notify(alice, 3)
    _, history = await subscribe(connect, alice, "?since=0")
    assert [n["id"] for n in history["messages"]] == ids[:2]
    assert history["truncated"] is True


async def test_ping_is_the_only_client_frame(connect, alice):
    socket, _ = await subscribe(connect, alice)
    await socket.send_json_to({"type": "ping"})
    await wait_for_frame(socket, type="pong")
    await socket.send_json_to({"type": "message", "text": "no"})
    await wait_for_frame(socket, type="error", code="unknown_type")


async def test_any_code_can_notify_through_the_channel_layer(connect, alice):
    socket, _ = await subscribe(connect, alice)
    frame = {"type": "notification", "id": 0, "text": "raw", "data": {}, "ts": "now"}
    await get_channel_layer().group_send(notifications.group_name(alice.pk), group_event(frame))
    assert await wait_for_frame(socket, type="notification") == frame


@pytest.fixture
def staff(make_user):
    return make_user("staff", is_staff=True)


@pytest.fixture
def api(client):
    """Post JSON to the API as a given user (or anonymously)."""

    def api(user, payload):
        if user is not None:
            authenticate_http(client, user)
        return client.post(URL, payload, content_type="application/json")

    return api


def test_staff_post_a_notification_that_is_stored_and_pushed(api, staff, alice):
    group = notifications.group_name(alice.pk)
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group, channel)
    response = api(staff, {"user": "alice", "text": "hello", "data": {"k": [1]}})
    assert response.status_code == 201
    stored = Notification.objects.get()
    assert response.json() == {"id": stored.id}
    assert (stored.user, stored.text, stored.data) == (alice, "hello", {"k": [1]})
    event = async_to_sync(layer.receive)(channel)
    assert '"text":"hello"' in event["text"]


def test_data_is_optional(api, staff, alice):
    assert api(staff, {"user": "alice", "text": "hi"}).status_code == 201
    assert Notification.objects.get().data == {}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"user": "nobody", "text": "hi"}, "user"),
        ({"text": "hi"}, "user"),
        ({"user": "alice"}, "text"),
        ({"user": "alice", "text": ""}, "text"),
        ({"user": "alice", "text": "hi", "data": [1, 2]}, "data"),
    ],
)
def test_a_bad_request_is_400_with_the_reason(api, staff, alice, payload, field):
    response = api(staff, payload)
    assert response.status_code == 400
    assert field in response.json()
    assert not Notification.objects.exists()


def test_a_user_who_is_not_staff_is_refused(api, alice):
    assert api(alice, {"user": "alice", "text": "hi"}).status_code == 403


def test_an_anonymous_request_is_refused(api, alice):
    assert api(None, {"user": "alice", "text": "hi"}).status_code in (401, 403)
    assert not Notification.objects.exists()


def test_the_notify_command_stores_and_sends(alice, capsys):
    call_command("notify", "alice", "from the shell")
    assert Notification.objects.get().text == "from the shell"
    assert "Sent notification" in capsys.readouterr().out


def test_the_notify_command_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match="No user named 'ghost'"):
        call_command("notify", "ghost", "hi")


@pytest.mark.parametrize("text", ["  ", "x" * 2001])
def test_the_notify_command_refuses_blank_or_long_text(alice, text):
    with pytest.raises(CommandError, match="not blank"):
        call_command("notify", "alice", text)
    assert not Notification.objects.exists()
