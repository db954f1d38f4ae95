"""Fan-out within a process: one channel layer subscription per group and process.

Channels delivers a group message to every member's own channel: a room of a hundred
connections costs the layer a hundred copies, and each member's consumer a wake-up, a
dispatch and a handler call before its frame reaches the socket. Here the process
joins each group once, with a channel of its own, and a frame from the group (a
:func:`~.protocol.group_event`, encoded once) is handed to the send queue of each local
member straight away. A member that does not read fills its own queue only
(``realtime/send_queue.py``).

Nothing changes for code that sends: views, commands and tasks call ``group_send`` on
the channel layer as before, from any process. An event of another type sent to a group
goes to the handler of each member's consumer, as Channels does it.

The groups are also the only way in: a connection reads no channel of its own from the
layer (see ``FrameConsumer.__call__``). Its ``channel_name``, from
:func:`connection_name`, names it in presence and in a frame's ``exclude``; to reach one
connection, send to a group it is in (every user has a notifications group).
"""

import asyncio
import logging
import uuid
from weakref import WeakKeyDictionary

from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

# One fan-out per event loop: a server runs one; tests start one per test.
_fanouts = WeakKeyDictionary()


def local_fanout():
    loop = asyncio.get_running_loop()
    if loop not in _fanouts:
        _fanouts[loop] = Fanout(get_channel_layer())
    return _fanouts[loop]


class LocalGroup:
    """This process's members of one group, and the task that reads the group's channel."""

    def __init__(self, name):
        self.name = name
        self.members = {}  # channel name -> the member's consumer
        self.channel = None
        self.reader = None
        self.frames_sent = None  # the counter of the endpoint of the member that made it
        self.ready = asyncio.Event()  # set once the channel is made and read


class Fanout:
    def __init__(self, layer):
        self.layer = layer
        self.groups = {}
        self.handling = set()  # the tasks handling other events, kept until they end

    async def add(self, group, member):
        """Add a member (again, to renew the membership that the layer expires)."""
        while True:
            local = self.groups.get(group)
            if local is None:
                local = self.groups[group] = LocalGroup(group)
                local.frames_sent = member.metrics.frames_sent
                local.channel = await self.layer.new_channel()
                local.reader = asyncio.create_task(self.read(local))
                local.ready.set()
            await local.ready.wait()
            if self.groups.get(group) is local:  # not emptied meanwhile
                break
        local.members[member.channel_name] = member
        await self.layer.group_add(group, local.channel)

    async def discard(self, group, member):
        local = self.groups.get(group)
        if local is None:
            return
        local.members.pop(member.channel_name, None)
        if not local.members:
            del self.groups[group]
            local.reader.cancel()
            await self.layer.group_discard(group, local.channel)

    async def read(self, local):
        try:
            while True:
                event = await self.layer.receive(local.channel)
                if event.get("type") == "realtime.frame":
                    exclude = event["exclude"]
                    message = {"type": "websocket.send", "text": event["text"]}
                    sent = 0
                    for channel_name, member in list(local.members.items()):
                        if channel_name != exclude:
                            member.send_queue.deliver(message)
                            sent += 1
                    # Counted once per frame, not per member: the fan-out is the hot path.
                    local.frames_sent.inc(sent)
                else:
                    for member in list(local.members.values()):
                        self.hand_over(member, event)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The layer failed (Redis went away): the members' clients reconnect and
            # join again, as they do when the layer fails under each consumer.
            logger.exception("Reading the channel layer for group %s failed", local.name)
            if self.groups.get(local.name) is local:
                del self.groups[local.name]
            for member in local.members.values():
                member.send_queue.put_nowait({"type": "websocket.close", "code": 1011})

    def hand_over(self, member, event):
        """Let the member's consumer handle ``event`` in its turn, without making the
        group's other members wait for it."""
        task = asyncio.create_task(member.handle_event(event))
        self.handling.add(task)
        task.add_done_callback(self.handling.discard)


def connection_name():
    """A name for one connection, unique across processes and machines."""
    return f"connection.{uuid.uuid4().hex}"


async def join(group, member):
    """Make ``member`` (a consumer: its ``channel_name``, ``send_queue``,
    ``handle_event`` and ``metrics``) a member of ``group``."""
    await local_fanout().add(group, member)


async def leave(group, member):
    await local_fanout().discard(group, member)
