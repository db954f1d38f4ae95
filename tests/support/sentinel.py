"""Redis under Redis Sentinel, and a live deployment that finds its Redis through it.

:class:`SentinelGroup` starts what a small high-availability setup runs: a primary
``redis-server``, a replica of it (``--replicaof``) and three ``redis-sentinel`` processes
that watch the primary with a quorum of 2, all on free loopback ports. Their timeouts are
short (the primary is "down" after DOWN_AFTER_MS of silence), so that a failover takes
seconds. :func:`sentinel_live` deploys a baked project with ``REDIS_SENTINELS`` and
``REDIS_SENTINEL_MASTER`` instead of ``REDIS_URL`` (tests/support/deployment.py); with
``tasks=celery`` its worker finds its broker through the same sentinels.
"""

import asyncio

import pytest
import redis

from tests.support.deployment import Deployment, Live
from tests.support.jobs import JobFeed, check_frames, fill_room, start_export
from tests.support.processes import free_ports, require
from tests.support.supervisor import Process, wait_until
from tests.support.websocket import (
    subscribe,
)

MASTER_NAME = "chat"
QUORUM = 2  # sentinels that must agree that the primary is down
DOWN_AFTER_MS = 1000  # silence after which a sentinel thinks the primary is down
FAILOVER_TIMEOUT_MS = 5000  # how long a failover may take before another one is tried
# Nothing listens on port 1: a server that read REDIS_URL instead of the sentinels fails.
NOWHERE = "redis://127.0.0.1:1/0"

SENTINEL_CONF = f"""\
port {{port}}
bind 127.0.0.1
dir {{directory}}
sentinel monitor {MASTER_NAME} 127.0.0.1 {{primary}} {QUORUM}
sentinel down-after-milliseconds {MASTER_NAME} {DOWN_AFTER_MS}
sentinel failover-timeout {MASTER_NAME} {FAILOVER_TIMEOUT_MS}
sentinel parallel-syncs {MASTER_NAME} 1
"""


def client(port):
    return redis.Redis(port=port, socket_timeout=2, socket_connect_timeout=2)


def answers(port, check):
    """Whether the Redis (or sentinel) on ``port`` answers and ``check(client)`` holds."""
    with client(port) as connection:
        try:
            return bool(check(connection))
        except redis.RedisError:
            return False


class SentinelGroup:
    """A primary, its replica and three sentinels; the primary can be killed with
    ``kill -9`` and the sentinels then promote the replica."""

    def __init__(self, directory):
        self.redis_server = require("redis-server")
        self.redis_sentinel = require("redis-sentinel")
        self.directory = directory
        self.primary_port, self.replica_port, *self.sentinel_ports = free_ports(5)
        self.processes = []
        self.primary = None

    @property
    def sentinels(self):
        """The value of REDIS_SENTINELS."""
        return ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)

    def start(self):
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self):
        self.primary = self.spawn_redis("redis primary", self.primary_port)
        replica = self.spawn_redis(
            "redis replica",
            self.replica_port,
            "--replicaof",
            "127.0.0.1",
            self.primary_port,
        )
        wait_until(
            lambda: answers(
                self.replica_port,
                lambda r: r.info("replication")["master_link_status"] == "up",
            ),
            replica,
            "replicating the primary",
        )
        sentinels = [self.spawn_sentinel(port) for port in self.sentinel_ports]
        # A failover needs a majority of sentinels that know each other (they meet every
        # 2 s through the primary) and a replica to promote.
        for port, sentinel in zip(self.sentinel_ports, sentinels, strict=True):
            wait_until(
                lambda port=port: answers(port, self.sees_everyone),
                sentinel,
                "aware of the replica and the other sentinels",
            )

    def sees_everyone(self, sentinel):
        state = sentinel.sentinel_master(MASTER_NAME)
        others = len(self.sentinel_ports) - 1
        return state["num-slaves"] >= 1 and state["num-other-sentinels"] >= others

    def spawn_redis(self, name, port, *arguments):
        directory = self.directory / name.replace(" ", "-")
        directory.mkdir()
        command = [self.redis_server, "--port", port, "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", directory, *arguments]
        process = Process(name, command, log=directory / "redis.log")
        self.processes.append(process)
        return process

    def spawn_sentinel(self, port):
        name = f"sentinel {len(self.processes) - 1}"
        directory = self.directory / name.replace(" ", "-")
        directory.mkdir()
        # A sentinel rewrites its configuration file as it learns: a file of its own.
        conf = directory / "sentinel.conf"
        conf.write_text(
            SENTINEL_CONF.format(port=port, directory=directory, primary=self.primary_port)
        )
        process = Process(name, [self.redis_sentinel, conf], log=directory / "sentinel.log")
        self.processes.append(process)
        return process

    def master(self):
        """The master's (host, port) as the first sentinel that answers names it."""
        for port in self.sentinel_ports:
            with client(port) as sentinel:
                try:
                    host, master_port = sentinel.sentinel_get_master_addr_by_name(MASTER_NAME)
                except (redis.RedisError, TypeError):
                    continue
            return host, int(master_port)
        return None

    def master_keys(self, pattern):
        """The keys of the current master that match ``pattern``."""
        _, port = self.master()
        with client(port) as master:
            return master.keys(pattern)

    def kill_primary(self):
        """``kill -9`` the primary, as a crash of its machine would."""
        self.primary.kill()

    def stop(self):
        for process in self.processes:
            process.terminate()
        for process in reversed(self.processes):
            process.stop()


async def an_export_runs(live, room, timeout):
    """tasks=celery: alice exports a small room; the job ends done within ``timeout``
    seconds (the worker reconnects to its broker at its next try)."""
    await asyncio.to_thread(fill_room, live, room, 3)
    async with live.websocket("/ws/notifications/", user="alice") as ws:
        await subscribe(ws, "alice")
        feed = JobFeed(ws)
        job = await asyncio.to_thread(start_export, live, "alice", room)
        check_frames(await feed.until_ended(job["id"], timeout), "done")


@pytest.fixture
def sentinel_live(request, baked, clean_installs, certificate, live_deployments, tmp_path_factory):
    """``(live, group)``: this combination deployed with two server processes whose Redis
    is the master of a :class:`SentinelGroup`. The combination's own live deployment is
    stopped first: the machine runs one at a time."""
    live_deployments.stop_all()
    workdir = tmp_path_factory.mktemp(f"sentinel-{baked.id}")
    (workdir / "redis").mkdir()
    group = SentinelGroup(workdir / "redis").start()
    redis_env = {
        "REDIS_SENTINELS": group.sentinels,
        "REDIS_SENTINEL_MASTER": MASTER_NAME,
        "REDIS_URL": NOWHERE,
    }
    deployment = Deployment(baked, clean_installs(baked), workdir, certificate, redis_env=redis_env)
    # Its logs go into failure reports, and it stops with the deployment (which stops
    # every process it holds when it fails to start, too).
    deployment.supervisor.adopt(*group.processes)
    try:
        deployment.start()
        request.node.user_properties.append(("live_timings", deployment.timings))
        yield Live(deployment, request.node), group
    finally:
        deployment.stop()
