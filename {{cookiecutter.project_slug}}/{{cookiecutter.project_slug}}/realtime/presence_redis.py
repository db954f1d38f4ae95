"""Who is in which room, kept in Redis so that every server process shares it.

Each room is a sorted set of ``[username, channel_name]`` entries scored by the time the
connection was last heard from. Every update first drops the entries silent for
``PRESENCE_TTL`` seconds, so a connection whose process died heals away, and runs as one
transaction, so that each join or leave is reported by exactly one process.
"""

import asyncio
import json
import time
import weakref

import redis.asyncio as redis
from django.conf import settings
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool
from redis.exceptions import ConnectionError as RedisConnectionError

from {{ cookiecutter.project_slug }}.realtime.presence_change import PresenceChange

clock = time.time
KEY_PREFIX = "{{ cookiecutter.project_slug }}:presence:"
# One client per event loop: a redis.asyncio connection belongs to the loop that made it.
clients = weakref.WeakKeyDictionary()


class BlockingSentinelConnectionPool(SentinelConnectionPool, redis.BlockingConnectionPool):
    """The master that the sentinels name, asked again after a failover; a caller waits
    for a free connection, as with :class:`redis.asyncio.BlockingConnectionPool`."""


def client():
    loop = asyncio.get_running_loop()
    if loop not in clients:
        # A blocking pool waits for a free connection instead of failing when busy. After
        # Redis restarts or fails over, a command on a dead connection reconnects (to the
        # new master) and runs once more.
        options = {
            "max_connections": settings.PRESENCE_REDIS_CONNECTIONS,
            "timeout": 5,
            "retry_on_error": [RedisConnectionError],
        }
        if settings.REDIS_SENTINELS:
            sentinel = Sentinel(
                settings.REDIS_SENTINELS, sentinel_kwargs=settings.REDIS_SENTINEL_OPTIONS
            )
            clients[loop] = sentinel.master_for(
                settings.REDIS_SENTINEL_MASTER,
                connection_pool_class=BlockingSentinelConnectionPool,
                **options,
            )
        else:
            pool = redis.BlockingConnectionPool.from_url(settings.REDIS_URL, **options)
            clients[loop] = redis.Redis(connection_pool=pool)
    return clients[loop]


async def join(room, username, channel_name):
    """Add (or refresh) a connection; returns the :class:`PresenceChange`."""
    return await update(room, (username, channel_name), present=True)


# Any frame shows that a connection is alive: refreshing is joining again.
touch = join


async def leave(room, username, channel_name):
    return await update(room, (username, channel_name), present=False)


async def counts(room_names):
    """room -> how many users are in it now, connections silent past the TTL left out."""
    alive_since = clock() - settings.PRESENCE_TTL
    async with client().pipeline(transaction=False) as pipe:
        for room in room_names:
            pipe.zrangebyscore(f"{KEY_PREFIX}{room}", alive_since, "+inf")
        found = await pipe.execute()
    return {
        room: len({user for user, _ in entries(members)})
        for room, members in zip(room_names, found, strict=True)
    }


async def clear():
    async for key in client().scan_iter(match=f"{KEY_PREFIX}*"):
        await client().delete(key)


async def update(room, entry, *, present):
    key = f"{KEY_PREFIX}{room}"
    member = json.dumps(entry)
    now = clock()
    async with client().pipeline(transaction=True) as pipe:
        pipe.zrange(key, 0, -1)
        pipe.zremrangebyscore(key, "-inf", now - settings.PRESENCE_TTL)
        if present:
            pipe.zadd(key, {member: now})
        else:
            pipe.zrem(key, member)
        pipe.zrange(key, 0, -1)
        # A room nobody updates any more disappears on its own.
        pipe.pexpire(key, int(2000 * settings.PRESENCE_TTL))
        previous, *_, current, _ = await pipe.execute()
    return PresenceChange.between(entries(previous), entries(current))


def entries(members):
    return {tuple(json.loads(member)) for member in members}
