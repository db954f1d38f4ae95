"""``/ws/chat/<room>/``: the chat contract, for whichever consumer style was baked."""

import json
from datetime import datetime

import pytest
from channels.db import database_sync_to_async

from {{ cookiecutter.project_slug }}.chat import protocol as chat
from {{ cookiecutter.project_slug }}.chat import services
from {{ cookiecutter.project_slug }}.chat.models import Message, Room

from tests.conftest import assert_closed_with, join, quiet, wait_for_frame

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def post(room_name, user, count):
    """``count`` messages of ``user``'s, stored and sent to the room long ago."""
    room = services.open_room(room_name, user)
    ids = [services.post_message(room, user, f"message {n}")[0].id for n in range(count)]
    Message.objects.filter(id__in=ids).update(delivered=True)
    return ids


@database_sync_to_async
def store_unsent(room_name, user, frame):
    """A message frame of ``user``'s that a server process stored, then died (``kill -9``)
    before sending it to the room."""
    room = services.open_room(room_name, user)
    return services.post_message(room, user, frame["text"], frame["client_id"])[0].id


async def test_an_anonymous_user_is_closed_with_4001_before_any_frame(connect):
    socket = await connect("/ws/chat/lobby/")
    await assert_closed_with(socket, 4001, "not signed in")


async def test_welcome_then_history_come_first(connect, alice):
    _, welcome, history = await join(connect, alice)
    assert welcome == {
        "type": "welcome",
        "protocol": 1,
        "room": "lobby",
        "user": "alice",
        "members": ["alice"],
    }
    assert history == {"type": "history", "messages": [], "truncated": False}


async def test_a_message_is_stored_then_sent_to_everyone_in_the_room(connect, alice, bob):
    alice_socket, *_ = await join(connect, alice)
    bob_socket, *_ = await join(connect, bob)
    await alice_socket.send_json_to({"type": "message", "text": "hi all", "client_id": "c-1"})
    for socket in (alice_socket, bob_socket):
        frame = await wait_for_frame(socket, type="message")
        assert frame == {
            "type": "message",
            "id": frame["id"],
            "room": "lobby",
            "user": "alice",
            "text": "hi all",
            "ts": frame["ts"],
            "client_id": "c-1",
        }
    stored = await Message.objects.aget(id=frame["id"])
    assert stored.text == "hi all"
    assert datetime.fromisoformat(frame["ts"]).utcoffset().total_seconds() == 0


async def test_the_sender_name_comes_from_the_server_never_the_client(connect, alice):
    socket, *_ = await join(connect, alice)
    await socket.send_json_to({"type": "message", "text": "hi", "user": "mallory"})
    assert (await wait_for_frame(socket, type="message"))["user"] == "alice"


async def test_rooms_are_isolated(connect, alice, bob):
    alice_socket, *_ = await join(connect, alice, "lobby")
    bob_socket, *_ = await join(connect, bob, "elsewhere")
    await alice_socket.send_json_to({"type": "message", "text": "lobby only"})
    assert (await wait_for_frame(alice_socket, type="message"))["text"] == "lobby only"
    assert await quiet(bob_socket)


async def test_history_holds_the_last_50_messages_oldest_first(connect, alice):
    ids = await post("lobby", alice, 55)
    _, _, history = await join(connect, alice)
    assert [m["id"] for m in history["messages"]] == ids[-50:]
    assert history["truncated"] is True
    assert history["messages"][0]["text"] == "message 5"


async def test_since_resumes_after_the_last_message_seen(connect, alice):
    ids = await post("lobby", alice, 5)
    _, _, history = await join(connect, alice, query=f"?since={ids[1]}")
    assert [m["id"] for m in history["messages"]] == ids[2:]
    assert history["truncated"] is False


async def test_since_returns_at_most_500_messages(connect, alice, settings):
    settings.CHAT_SINCE_LIMIT = 3
    ids = await post("lobby", alice, 5)
    _, _, history = await join(connect, alice, query="?since=0")
    assert [m["id"] for m in history["messages"]] == ids[:3]
    assert history["truncated"] is True


@pytest.mark.parametrize("since", ["abc", "-1", "1.5", "", "%C2%B2"])
async def test_a_malformed_since_is_ignored(connect, alice, since):
    ids = await post("lobby", alice, 2)
    _, _, history = await join(connect, alice, query=f"?since={since}")
    assert [m["id"] for m in history["messages"]] == ids


async def test_typing_reaches_the_others_but_not_the_typist(connect, alice, bob):
    alice_socket, *_ = await join(connect, alice)
    bob_socket, *_ = await join(connect, bob)
    await alice_socket.send_json_to({"type": "typing"})
    assert await wait_for_frame(bob_socket, type="typing") == {"type": "typing", "user": "alice"}
    assert await quiet(alice_socket)


async def test_ping_gets_pong(connect, alice):
    socket, *_ = await join(connect, alice)
    await socket.send_json_to({"type": "ping"})
    assert await wait_for_frame(socket, type="pong") == {"type": "pong"}


async def test_a_group_event_without_a_handler_ends_the_connection_with_1011(
    connect, alice, channel_layer, caplog
):
    """Consumers read no channel of their own: other group events reach their handlers
    through the room's group, and one they cannot handle is a server error, as in Channels."""
    socket, *_ = await join(connect, alice)
    await wait_for_frame(socket, type="presence", user="alice")  # her own arrival
    await channel_layer.group_send(chat.group_name("lobby"), {"type": "chat.unknown"})
    await assert_closed_with(socket, 1011, "server error")
    assert "Handling a chat.unknown event failed" in caplog.text


async def test_a_frame_handler_that_fails_ends_that_connection_with_1011(
    connect, alice, monkeypatch, caplog
):
    """A bug reached by one client's frame closes that connection, not the server, and
    its traceback goes to the log."""

    def broken(frame):
        raise RuntimeError("broken on purpose")

    monkeypatch.setattr(chat, "history_request", broken)
    socket, *_ = await join(connect, alice)
    await wait_for_frame(socket, type="presence", user="alice")  # her own arrival
    await socket.send_json_to({"type": "history", "before": 1})
    await assert_closed_with(socket, 1011, "server error")
    assert "Handling a frame failed" in caplog.text
    assert "broken on purpose" in caplog.text


async def test_history_pages_backwards_with_before_and_limit(connect, alice):
    ids = await post("lobby", alice, 10)
    socket, *_ = await join(connect, alice)
    await socket.send_json_to({"type": "history", "before": ids[5], "limit": 3})
    page = await wait_for_frame(socket, type="history")
    assert [m["id"] for m in page["messages"]] == ids[2:5]
    assert page["truncated"] is True
    await socket.send_json_to({"type": "history", "before": ids[2]})
    page = await wait_for_frame(socket, type="history")
    assert [m["id"] for m in page["messages"]] == ids[:2]
    assert page["truncated"] is False


async def test_a_resent_client_id_is_stored_once_and_acknowledged_to_the_sender_alone(
    connect, alice, bob
):
    alice_socket, *_ = await join(connect, alice)
    bob_socket, *_ = await join(connect, bob)
    frame = {"type": "message", "text": "once", "client_id": "retry-me"}
    await alice_socket.send_json_to(frame)
    first = await wait_for_frame(alice_socket, type="message")
    assert (await wait_for_frame(bob_socket, type="message"))["id"] == first["id"]
    await alice_socket.send_json_to(frame)
    assert await wait_for_frame(alice_socket, type="message") == first
    assert await quiet(bob_socket)
    assert await Message.objects.filter(client_id="retry-me").acount() == 1


async def test_a_message_stored_but_never_sent_goes_to_the_room_when_its_sender_reconnects(
    connect, alice, bob
):
    bob_socket, *_ = await join(connect, bob)
    unsent = await store_unsent("lobby", alice, {"text": "lost", "client_id": "c-1"})
    alice_socket, _, history = await join(connect, alice, query="?since=0")
    assert [m["id"] for m in history["messages"]] == [unsent]
    await wait_for_frame(alice_socket, type="presence", user="alice")  # her connect() is done
    assert (await wait_for_frame(bob_socket, type="message"))["id"] == unsent
    assert await quiet(bob_socket)
    assert await quiet(alice_socket)  # she has it in her history
    await join(connect, alice, query="?since=0")  # a second tab: it went already
    assert await quiet(bob_socket)


async def test_a_message_stored_but_never_sent_goes_to_the_room_when_its_sender_resends_it(
    connect, alice, bob
):
    """Her connection's history does not hold it: she resends it, as a client does with
    what it never saw acknowledged."""
    alice_socket, *_ = await join(connect, alice)
    bob_socket, *_ = await join(connect, bob)
    frame = {"type": "message", "text": "lost", "client_id": "c-1"}
    unsent = await store_unsent("lobby", alice, frame)
    await alice_socket.send_json_to(frame)
    for socket in (alice_socket, bob_socket):
        assert (await wait_for_frame(socket, type="message"))["id"] == unsent
        assert await quiet(socket)
    await alice_socket.send_json_to(frame)
    assert (await wait_for_frame(alice_socket, type="message"))["id"] == unsent
    assert await quiet(bob_socket)


async def test_a_delivered_message_is_not_sent_again_when_its_sender_reconnects(
    connect, alice, bob
):
    alice_socket, *_ = await join(connect, alice)
    bob_socket, *_ = await join(connect, bob)
    await alice_socket.send_json_to({"type": "message", "text": "hi", "client_id": "c-1"})
    sent = await wait_for_frame(bob_socket, type="message")
    await alice_socket.disconnect()
    _, _, history = await join(connect, alice, query="?since=0")
    assert [m["id"] for m in history["messages"]] == [sent["id"]]
    assert await quiet(bob_socket)


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "invalid_json"),
        ("[]", "invalid_json"),
        ('{"type": "shout"}', "unknown_type"),
        ('{"type": null}', "unknown_type"),
        ('{"type": "echo", "text": "wrong endpoint"}', "unknown_type"),
        ('{"type": "message"}', "invalid_message"),
        ('{"type": "message", "text": "   "}', "invalid_message"),
        ('{"type": "message", "text": ["a"]}', "invalid_message"),
        ('{"type": "message", "text": "' + "x" * 2001 + '"}', "invalid_message"),
        ('{"type": "message", "text": "ok", "client_id": 7}', "invalid_message"),
        ('{"type": "message", "text": "ok", "client_id": "' + "c" * 65 + '"}', "invalid_message"),
        ('{"type": "history"}', "invalid_message"),
        ('{"type": "history", "before": "10"}', "invalid_message"),
        ('{"type": "history", "before": true}', "invalid_message"),
        ('{"type": "history", "before": 10, "limit": 0}', "invalid_message"),
        ('{"type": "history", "before": 10, "limit": 101}', "invalid_message"),
    ],
)
async def test_a_bad_frame_gets_an_error_stores_nothing_and_the_connection_stays_open(
    connect, alice, frame, code
):
    socket, *_ = await join(connect, alice)
    await socket.send_to(text_data=frame)
    error = await wait_for_frame(socket, type="error")
    assert error["code"] == code
    assert await Message.objects.acount() == 0
    await socket.send_json_to({"type": "ping"})
    assert await wait_for_frame(socket, type="pong") == {"type": "pong"}


async def test_a_binary_frame_is_invalid_json(connect, alice):
    socket, *_ = await join(connect, alice)
    await socket.send_to(bytes_data=b"\x00\x01")
    assert (await wait_for_frame(socket, type="error"))["code"] == "invalid_json"


async def test_a_message_of_exactly_2000_characters_is_accepted(connect, alice):
    socket, *_ = await join(connect, alice)
    frame = {"type": "message", "text": "é" * 2000}
    await socket.send_to(text_data=json.dumps(frame, ensure_ascii=False))
    assert len((await wait_for_frame(socket, type="message"))["text"]) == 2000


async def test_connecting_opens_a_public_room(connect, alice):
    await join(connect, alice, "new-room")
    room = await Room.objects.aget(name="new-room")
    assert room.is_private is False
