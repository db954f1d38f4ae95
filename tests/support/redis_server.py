"""A private ``redis-server`` on a loopback port, without persistence."""

import shutil
import subprocess

import pytest
import redis as redis_client

from tests.support.processes import free_port, output_lines, wait_for_line

READY_LINE = "Ready to accept connections"
START_TIMEOUT = 30
INSTALL_HINT = (
    "redis-server is not on PATH, and the redis combinations need a real Redis. "
    "Install it: `apt-get install redis-server` on Debian/Ubuntu, "
    "`brew install redis` on macOS; `make test` installs it."
)


class RedisServer:
    """A ``redis-server`` on ``port`` (a free one by default). It can be stopped and
    started again on the same port (tests/test_faults.py does)."""

    def __init__(self, directory, port=None):
        self.executable = shutil.which("redis-server")
        if self.executable is None:
            pytest.fail(INSTALL_HINT, pytrace=False)
        self.directory = directory
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        """Start it; fail the test unless it is ready within START_TIMEOUT."""
        self.process = subprocess.Popen(
            [self.executable, "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines = output_lines(self.process.stdout)
        try:
            wait_for_line(lines, READY_LINE, START_TIMEOUT)
        except TimeoutError as error:
            self.stop()
            pytest.fail(
                f"redis-server on port {self.port} not ready within "
                f"{START_TIMEOUT} s; its output:\n{error}",
                pytrace=False,
            )
        except EOFError as error:
            code = self.process.wait(timeout=10)
            pytest.fail(
                f"redis-server on port {self.port} exited before it was ready "
                f"(exit code {code}); its output:\n{error}",
                pytrace=False,
            )
        return self

    def stop(self):
        """Terminate, wait, kill: it is gone when this returns."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def redis(tmp_path_factory):
    """This worker's :class:`RedisServer`, started on first use, stopped at the end of
    the session. The redis combinations ask for it lazily (``getfixturevalue``)."""
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_server(redis):
    """The URL of this worker's Redis (database 0)."""
    return redis.url


def flush_redis(url):
    """Empty the database of ``url`` only: live deployments use another one."""
    client = redis_client.Redis.from_url(url, socket_timeout=10)
    try:
        client.flushdb()
    finally:
        client.close()
