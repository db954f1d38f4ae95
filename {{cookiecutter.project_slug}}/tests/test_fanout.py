"""Fan-out within a process (realtime/fanout.py): a group is one channel layer
subscription of the process, each frame goes to every local member's send queue, and a
member that does not read delays no one."""

import asyncio

from {{ cookiecutter.project_slug }}.realtime import fanout, metrics
from {{ cookiecutter.project_slug }}.realtime.disconnects import CLIENT_GONE
from {{ cookiecutter.project_slug }}.realtime.protocol import group_event
from {{ cookiecutter.project_slug }}.realtime.send_queue import SendQueue

TIMEOUT = 5  # seconds to wait for one message on a busy machine


class Member:
    """A connection as the fan-out sees it: a channel name, a send queue, whose messages
    land in ``written`` (or never leave, when ``stalled``), and the events it handled."""

    metrics = metrics.for_endpoint("fanout-test")

    def __init__(self, name, *, stalled=False, gone=False, capacity=10, connecting=False):
        self.channel_name = f"member-{name}"
        self.written = asyncio.Queue()
        self.handled = asyncio.Queue()
        self.stalled = stalled
        self.gone = gone
        self.send_queue = SendQueue(self.send, capacity=capacity, direct=False)
        if not connecting:
            self.send_queue.release()  # past its handshake

    async def send(self, message):
        if self.gone:
            raise CLIENT_GONE[0]("the client has gone")
        if self.stalled:
            await asyncio.Event().wait()  # a client that never reads
        await self.written.put(message)

    async def handle_event(self, event):
        await self.handled.put(event)

    async def join(self, group):
        await fanout.join(group, self)

    async def next_text(self):
        message = await asyncio.wait_for(self.written.get(), TIMEOUT)
        return message["text"]


def frame(number):
    return {"type": "message", "id": number}


async def test_a_group_is_one_subscription_of_the_process(channel_layer):
    alice, bob = Member("alice"), Member("bob")
    await alice.join("chat.lobby")
    await bob.join("chat.lobby")
    assert set(fanout.local_fanout().groups["chat.lobby"].members) == {
        alice.channel_name,
        bob.channel_name,
    }

    await channel_layer.group_send("chat.lobby", group_event(frame(1), exclude=bob.channel_name))
    await channel_layer.group_send("chat.lobby", group_event(frame(2)))

    assert [await alice.next_text(), await alice.next_text()] == [
        '{"type":"message","id":1}',
        '{"type":"message","id":2}',
    ]
    assert await bob.next_text() == '{"type":"message","id":2}'  # 1 excluded him


async def test_the_last_member_leaving_ends_the_subscription(channel_layer):
    alice, bob = Member("alice"), Member("bob")
    await alice.join("chat.lobby")
    await bob.join("chat.lobby")
    await fanout.leave("chat.lobby", alice)
    assert "chat.lobby" in fanout.local_fanout().groups
    await fanout.leave("chat.lobby", bob)
    assert "chat.lobby" not in fanout.local_fanout().groups
    await channel_layer.group_send("chat.lobby", group_event(frame(1)))  # to nobody


async def test_other_events_go_to_each_members_handler(channel_layer):
    """An event that is not a frame goes to the member's consumer, as Channels does it."""
    alice, bob = Member("alice"), Member("bob")
    await alice.join("chat.lobby")
    await bob.join("chat.lobby")
    await channel_layer.group_send("chat.lobby", {"type": "chat.kick", "user": "bob"})
    for member in (alice, bob):
        handled = await asyncio.wait_for(member.handled.get(), TIMEOUT)
        assert handled == {"type": "chat.kick", "user": "bob"}
    assert alice.written.empty()


async def test_a_member_that_does_not_read_delays_no_one(channel_layer):
    stalled, alice = Member("stalled", stalled=True, capacity=3), Member("alice")
    await stalled.join("chat.lobby")
    await alice.join("chat.lobby")
    for number in range(8):
        await channel_layer.group_send("chat.lobby", group_event(frame(number)))
    assert [await alice.next_text() for _ in range(8)][-1] == '{"type":"message","id":7}'
    # The stalled member holds one frame in its send and at most its capacity queued.
    assert len(stalled.send_queue.pending) <= 3
    await stalled.send_queue.close()


async def test_a_member_whose_client_has_gone_is_passed_over(channel_layer):
    """What the server raises for a frame that crosses a disconnect ends nothing: the
    consumer goes on to its disconnect(), and leaves its groups and presence there."""
    gone, alice = Member("gone", gone=True), Member("alice")
    await gone.join("chat.lobby")
    await alice.join("chat.lobby")
    for number in range(3):
        await channel_layer.group_send("chat.lobby", group_event(frame(number)))
    assert [await alice.next_text() for _ in range(3)][-1] == '{"type":"message","id":2}'
    assert gone.send_queue.gone
    await gone.send_queue.close()  # raises nothing


async def test_frames_from_groups_wait_for_the_handshake():
    """What ``connect()`` sends comes first, the frames of its groups after."""
    alice = Member("alice", connecting=True)
    alice.send_queue.deliver({"type": "websocket.send", "text": "from the group"})
    await alice.send_queue.put({"type": "websocket.send", "text": "welcome"})
    alice.send_queue.release()  # connect() has returned
    await alice.send_queue.put({"type": "websocket.send", "text": "later"})
    assert [await alice.next_text() for _ in range(3)] == ["welcome", "from the group", "later"]
    await alice.send_queue.close()
