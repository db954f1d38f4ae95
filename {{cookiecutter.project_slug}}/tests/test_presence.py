"""Presence: who is in a room, one member per user, healing after vanished connections."""

import asyncio
import json

import pytest

from {{ cookiecutter.project_slug }}.chat.consumers import ChatConsumer
from {{ cookiecutter.project_slug }}.realtime import presence

from tests.conftest import RECEIVE_TIMEOUT, join, wait_for_frame, wait_for_frames

pytestmark = pytest.mark.django_db(transaction=True)


class Clock:
    """Presence time that a test moves by hand instead of sleeping."""

    def __init__(self, now=1_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(presence, "clock", clock)
    return clock


async def enter(connect, user, room="lobby"):
    """Connect ``user``; return the socket and the members its welcome listed."""
    socket, welcome, _ = await join(connect, user, room)
    return socket, welcome["members"]


def presence_frame(event, user, members):
    return {"type": "presence", "event": event, "user": user, "members": members}


async def test_a_first_connection_is_announced_to_the_room_and_to_itself(connect, alice, bob):
    alice_socket, members = await enter(connect, alice)
    assert members == ["alice"]
    await wait_for_frame(alice_socket, **presence_frame("join", "alice", ["alice"]))
    bob_socket, members = await enter(connect, bob)
    assert members == ["alice", "bob"]
    joined = presence_frame("join", "bob", ["alice", "bob"])
    await wait_for_frame(alice_socket, **joined)
    await wait_for_frame(bob_socket, **joined)


async def test_a_user_with_several_tabs_is_one_member(connect, alice, bob):
    alice_socket, _ = await enter(connect, alice)
    await wait_for_frame(alice_socket, **presence_frame("join", "alice", ["alice"]))
    second_tab, members = await enter(connect, alice)
    assert members == ["alice"]
    assert await alice_socket.receive_nothing()
    assert await second_tab.receive_nothing()


async def test_leave_is_announced_when_the_last_tab_closes(connect, alice, bob):
    alice_socket, _ = await enter(connect, alice)
    bob_tab_1, _ = await enter(connect, bob)
    bob_tab_2, _ = await enter(connect, bob)
    await wait_for_frames(
        alice_socket,
        presence_frame("join", "alice", ["alice"]),
        presence_frame("join", "bob", ["alice", "bob"]),
    )
    await bob_tab_1.disconnect()
    assert await alice_socket.receive_nothing()
    await bob_tab_2.disconnect()
    await wait_for_frame(alice_socket, **presence_frame("leave", "bob", ["alice"]))


async def test_a_connection_silent_for_the_ttl_drops_out(connect, alice, bob, clock, settings):
    alice_socket, _ = await enter(connect, alice)
    bob_socket, _ = await enter(connect, bob)  # then bob falls silent, without a disconnect
    await wait_for_frame(alice_socket, **presence_frame("join", "bob", ["alice", "bob"]))
    clock.now += settings.PRESENCE_TTL / 2
    await alice_socket.send_json_to({"type": "ping"})
    await wait_for_frame(alice_socket, type="pong")
    clock.now += settings.PRESENCE_TTL / 2 + 1
    await alice_socket.send_json_to({"type": "ping"})
    # The pong comes straight back, the leave through the room's group: either first.
    await wait_for_frames(alice_socket, presence_frame("leave", "bob", ["alice"]), {"type": "pong"})
    # Any frame brings bob back: presence heals both ways.
    await bob_socket.send_json_to({"type": "typing"})
    await wait_for_frame(alice_socket, **presence_frame("join", "bob", ["alice", "bob"]))


async def test_a_vanished_connection_is_not_listed_to_newcomers(connect, alice, clock, settings):
    await presence.join("lobby", "ghost", "a-channel-whose-process-died")
    clock.now += settings.PRESENCE_TTL + 1
    alice_socket, members = await enter(connect, alice)
    assert members == ["alice"]
    await wait_for_frames(
        alice_socket,
        presence_frame("leave", "ghost", ["alice"]),
        presence_frame("join", "alice", ["alice"]),
    )


async def test_a_frame_that_crosses_a_disconnect_does_not_keep_the_user_here(connect, alice, bob):
    """A server's send may fail for a client that has just gone (Uvicorn raises
    ClientDisconnected, an OSError) while its websocket.disconnect is on the way. The
    consumer must still reach disconnect(): leave the room's group and its members."""
    incoming, outgoing, gone = asyncio.Queue(), asyncio.Queue(), asyncio.Event()

    async def send(message):
        if gone.is_set():
            raise OSError("the client is gone")
        await outgoing.put(message)

    scope = {
        "type": "websocket",
        "path": "/ws/chat/lobby/",
        "query_string": b"",
        "headers": [],
        "subprotocols": [],
        "user": alice,
        "url_route": {"args": (), "kwargs": {"room": "lobby"}},
    }
    application = ChatConsumer.as_asgi()
    await incoming.put({"type": "websocket.connect"})
    running = asyncio.create_task(application(scope, incoming.get, send))
    async with asyncio.timeout(RECEIVE_TIMEOUT):
        assert (await outgoing.get())["type"] == "websocket.accept"
        welcome = json.loads((await outgoing.get())["text"])
        assert welcome["members"] == ["alice"]

    gone.set()  # alice's client is gone; bob's join crosses her disconnect
    bob_socket, members = await enter(connect, bob)
    assert members == ["alice", "bob"]
    # alice's own join may still reach bob: it is on its way through the room's group.
    await wait_for_frame(bob_socket, **presence_frame("join", "bob", members))
    await incoming.put({"type": "websocket.disconnect", "code": 1006})
    async with asyncio.timeout(RECEIVE_TIMEOUT):
        await running
    await wait_for_frame(bob_socket, **presence_frame("leave", "alice", ["bob"]))
