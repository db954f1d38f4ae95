"""With the redis layer, server processes share groups and presence through Redis.

Each consumer takes the channel layer that is registered when it connects; swapping in a
new layer instance between two connections gives them the separate Redis connections
that two server processes would have.
"""

import json

import pytest
import redis.asyncio as redis
from channels import DEFAULT_CHANNEL_LAYER
from channels.layers import channel_layers
from channels_redis.core import RedisChannelLayer
from django.conf import settings

from {{ cookiecutter.project_slug }}.realtime import presence

from tests.conftest import join, wait_for_frame, wait_for_frames

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def new_process():
    """Register a fresh layer instance, as if the next socket reached another process.

    The autouse ``channel_layer`` fixture empties Redis after the test.
    """

    def new_process():
        layer = RedisChannelLayer(**settings.CHANNEL_LAYERS["default"]["CONFIG"])
        channel_layers.backends[DEFAULT_CHANNEL_LAYER] = layer
        return layer

    return new_process


async def test_two_processes_share_messages_and_presence(connect, alice, bob, new_process):
    first = new_process()
    alice_socket, *_ = await join(connect, alice)
    second = new_process()
    assert first is not second
    bob_socket, bob_welcome, _ = await join(connect, bob)
    assert bob_welcome["members"] == ["alice", "bob"]
    # Each process announces its own user's join: they reach alice in either order.
    bob_joined = {"type": "presence", "event": "join", "user": "bob", "members": ["alice", "bob"]}
    alice_joined = {"type": "presence", "event": "join", "user": "alice", "members": ["alice"]}
    await wait_for_frames(alice_socket, alice_joined, bob_joined)
    await wait_for_frame(bob_socket, **bob_joined)
    await bob_socket.send_json_to({"type": "message", "text": "across processes"})
    for socket in (alice_socket, bob_socket):
        await wait_for_frame(socket, type="message", text="across processes")


async def test_presence_lives_in_redis_not_in_process_memory(connect, alice):
    _, welcome, _ = await join(connect, alice)
    assert welcome["members"] == ["alice"]
    members = await presence.client().zrange(f"{presence.KEY_PREFIX}lobby", 0, -1)
    assert [json.loads(member)[0] for member in members] == ["alice"]


def test_redis_reads_outlast_the_layers_blocking_wait(channel_layer):
    """A quiet socket must not time out: channels_redis blocks for brpop_timeout seconds
    waiting for messages, so a read may take that long."""
    [host] = settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"]
    assert host["socket_timeout"] > channel_layer.brpop_timeout
    assert host["max_connections"] >= 1000


async def test_connections_that_redis_closed_are_made_again(new_process):
    """After Redis restarts, every pooled connection is dead; the next command on each
    reconnects instead of failing (the channel layer's and presence's alike)."""
    layer = new_process()
    await layer.group_add("chat.lobby", "a-channel")
    await presence.join("lobby", "alice", "a-channel")
    admin = redis.Redis.from_url(settings.REDIS_URL)
    try:
        # This database's clients only: another process may share the Redis server.
        me = await admin.client_id()
        db = admin.connection_pool.connection_kwargs.get("db", 0)
        ids = [c["id"] for c in await admin.client_list() if int(c["db"]) == db]
        for client_id in ids:
            if int(client_id) != me:
                await admin.client_kill_filter(_id=client_id)
    finally:
        await admin.aclose()
    assert len(ids) >= 3
    await layer.group_add("chat.lobby", "another-channel")
    change = await presence.join("lobby", "bob", "another-channel")
    assert change.members == ["alice", "bob"]
