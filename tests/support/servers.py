"""The server processes of a live deployment: the project's own start command,
``deploy/serve.sh``, once per port (server A, and server B with the Redis layer).

A test stops, kills, or sends SIGTERM to one of them the way production does, and starts
it again on its port; whatever a test stopped, :meth:`Servers.restart_stopped` starts
again, so that the shared deployment is left as it was found.
"""

import asyncio
import http.client
from contextlib import contextmanager

from tests.support.http_client import request
from tests.support.supervisor import ProcessError, wait_until

PROBE_TIMEOUT = 5  # socket timeout of one readiness probe (refusals are instant)


def healthy(port):
    """Whether the server on ``port`` answers ``GET /healthz`` with 200."""
    try:
        response = request(port, "GET", "/healthz", timeout=PROBE_TIMEOUT)
    except (OSError, http.client.HTTPException):
        return False
    return response.status == 200


async def sigterm(servers, index, exit_limit):
    """SIGTERM to server ``index`` of ``servers``; returns at once a task that waits for
    its exit status (``subprocess.TimeoutExpired`` after ``exit_limit`` seconds)."""
    popen = await asyncio.to_thread(servers.terminate, index)
    return asyncio.create_task(asyncio.to_thread(popen.wait, exit_limit))


class Servers:
    """``deploy/serve.sh`` on each of ``ports``, started by ``supervisor``; indexable:
    ``servers[0]`` is server A's current :class:`~tests.support.supervisor.Process`."""

    def __init__(self, supervisor, ports):
        self.supervisor = supervisor
        self.ports = ports
        self.processes = []

    def __getitem__(self, index):
        return self.processes[index]

    def __len__(self):
        return len(self.processes)

    def __iter__(self):
        return iter(self.processes)

    def start(self):
        """Start every server; returns at once (see :meth:`wait_healthy`)."""
        self.processes = [self.spawn(index) for index in range(len(self.ports))]

    def spawn(self, index, **env):
        """Run ``deploy/serve.sh`` as server ``index`` (A, B, ...) on its port."""
        name = f"server {'AB'[index]}"
        return self.supervisor.spawn(name, ["deploy/serve.sh"], PORT=str(self.ports[index]), **env)

    def wait_healthy(self, *indexes):
        """Wait until these servers (all by default) answer ``GET /healthz`` with 200."""
        for index in indexes or range(len(self.processes)):
            server, port = self.processes[index], self.ports[index]
            wait_until(lambda port=port: healthy(port), server, "healthy (GET /healthz)")

    def kill(self, index):
        """``kill -9`` server ``index``, as a crash would; returns once it is gone."""
        self.processes[index].kill()

    def terminate(self, index):
        """SIGTERM to server ``index``, as a deploy or Kubernetes sends it; returns its
        ``Popen`` at once (wait on it for the exit)."""
        server = self.processes[index]
        server.terminate()
        return server.popen

    def stop(self, index):
        """Stop server ``index`` as a deploy would (SIGTERM, then wait)."""
        self.processes[index].stop()

    def restart(self, index, **env):
        """Start server ``index`` again on its port (after :meth:`kill` or :meth:`stop`),
        with ``env`` added to its environment; returns once it is healthy."""
        if self.processes[index].alive():
            raise ProcessError(f"{self.processes[index].name} is still running")
        self.processes[index] = self.spawn(index, **env)
        self.wait_healthy(index)

    @contextmanager
    def running_with(self, index, **env):
        """Server ``index`` restarted with ``env`` added to its environment for the
        block, then restarted as it was."""
        try:
            self.stop(index)
            self.restart(index, **env)
            yield
        finally:
            self.stop(index)
            self.restart(index)

    def restart_stopped(self):
        """Start every server that is not running: a test that stopped or killed one
        leaves the shared deployment as it found it."""
        for index, server in enumerate(self.processes):
            if not server.alive():
                self.restart(index)
