"""Redis high availability: a live deployment whose Redis is found through Redis Sentinel.

Two server processes behind nginx read ``REDIS_SENTINELS`` and ``REDIS_SENTINEL_MASTER``
(and a ``REDIS_URL`` where nothing listens, so that a server that read it would fail).
The Redis primary dies with ``kill -9``; the sentinels promote its replica, and the
service comes back without a restart: ``/healthz`` answers 200 on every process within
FAILOVER_LIMIT seconds, and chat, presence and notifications cross between the processes
again. The time it took is recorded (``live.record``; read it with ``-rA`` or junitxml).
"""

import asyncio
import time

import pytest

from tests.support.observe import poll
from tests.support.sentinel import an_export_runs
from tests.support.servers import healthy
from tests.support.websocket import (
    FRAME_TIMEOUT,
    HEALTHY,
    chat_presence_and_notifications_cross,
    room_name,
)

FAILOVER_LIMIT = 30  # seconds from the primary's death to /healthz 200 everywhere
# The worker reconnects to its broker at its next try (after 2, 4, 6 ... s).
BROKER_BACK = 60
pytestmark = pytest.mark.stage("sentinel")


def test_the_service_recovers_when_the_redis_primary_dies(sentinel_live):
    """Before the failover, presence lives on the primary the sentinels name, and chat,
    presence and notifications cross between the processes. The primary killed with
    ``kill -9``: /healthz says 503, then the replica is promoted and /healthz is 200 on
    every process within 30 seconds; the same crossings work again, presence now on the
    new master. With ``tasks=celery`` the broker is the sentinels' master too: an export
    runs to done before, and one started after the failover too."""
    live, group = sentinel_live

    def presence_on_the_master(room):
        def check():
            assert group.master_keys(f"*:presence:{room}"), f"{room}: no presence on the master"

        return check

    async def scenario():
        before = room_name("before-failover")
        await chat_presence_and_notifications_cross(live, before, presence_on_the_master(before))
        if live.worker:
            await an_export_runs(live, before, FRAME_TIMEOUT)
        primary = group.master()
        killed = time.monotonic()
        await asyncio.to_thread(group.kill_primary)
        response = await asyncio.to_thread(live.http, "GET", "/healthz")
        assert response.status == 503, response
        assert response.json()["channel_layer"] == "error", response.json()

        await poll(lambda: group.master() not in (None, primary), FAILOVER_LIMIT * 2, "failed over")
        promoted = time.monotonic() - killed
        await poll(
            lambda: all(healthy(port) for port in live.servers.ports),
            FAILOVER_LIMIT * 2,
            "healthy on every process",
        )
        back = time.monotonic() - killed
        live.record(
            "sentinel_failover",
            {"replica_promoted_s": round(promoted, 2), "healthz_back_s": round(back, 2)},
        )
        assert back <= FAILOVER_LIMIT
        assert (await asyncio.to_thread(live.http, "GET", "/healthz")).json() == HEALTHY
        after = room_name("after-failover")
        await chat_presence_and_notifications_cross(live, after, presence_on_the_master(after))
        if live.worker:
            await an_export_runs(live, after, BROKER_BACK)

    live.run(scenario)
