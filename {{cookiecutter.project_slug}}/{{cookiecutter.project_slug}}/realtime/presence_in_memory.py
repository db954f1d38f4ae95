"""Who is in which room, kept in process memory like the in-memory channel layer itself.

Every connection of a room is an entry ``(username, channel_name)`` stamped with the
time it was last heard from. An entry silent for ``PRESENCE_TTL`` seconds is dropped at
the room's next update, so a connection that vanished without a disconnect heals away.
All functions run on the event loop thread (sync consumers reach them through
``async_to_sync``), so no lock is needed.
"""

import time

from django.conf import settings

from {{ cookiecutter.project_slug }}.realtime.presence_change import PresenceChange

clock = time.time
rooms = {}


async def join(room, username, channel_name):
    """Add (or refresh) a connection; returns the :class:`PresenceChange`."""
    return update(room, (username, channel_name), present=True)


# Any frame shows that a connection is alive: refreshing is joining again.
touch = join


async def leave(room, username, channel_name):
    return update(room, (username, channel_name), present=False)


async def counts(room_names):
    """room -> how many users are in it now, connections silent past the TTL left out."""
    alive_since = clock() - settings.PRESENCE_TTL
    return {
        room: len({user for (user, _), seen in rooms.get(room, {}).items() if seen > alive_since})
        for room in room_names
    }


async def clear():
    rooms.clear()


def update(room, entry, *, present):
    entries = rooms.setdefault(room, {})
    previous = set(entries)
    now = clock()
    for stale in [e for e, seen in entries.items() if seen <= now - settings.PRESENCE_TTL]:
        del entries[stale]
    if present:
        entries[entry] = now
    else:
        entries.pop(entry, None)
    if not entries:
        del rooms[room]
    return PresenceChange.between(previous, entries)
