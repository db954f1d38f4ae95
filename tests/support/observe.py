"""What the operating system tells about a server: its connections, its memory, its log."""

import asyncio
import time

from tests.support.supervisor import ProcessError

POLL_INTERVAL = 0.1
LOG_ERRORS = ("Traceback", "ERROR", "Exception", "Error:")


def established(port):
    """Server-side TCP connections established on 127.0.0.1:``port`` (/proc/net/tcp)."""
    count = 0
    with open("/proc/net/tcp") as table:
        next(table)
        for line in table:
            local, _, state = line.split()[1:4]
            count += state == "01" and int(local.rsplit(":", 1)[1], 16) == port
    return count


def rss_mb(pid):
    """The resident memory of process ``pid``, in MiB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise ProcessError(f"no VmRSS for process {pid}")


def log_errors(process, since):
    """Lines of ``process``'s log written after offset ``since`` that report an error."""
    text = process.output()[since:]
    return [line for line in text.splitlines() if any(e in line for e in LOG_ERRORS)]


async def poll(predicate, timeout, what):
    """Wait until ``predicate()`` (which may be a coroutine function) is true."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not {what} within {timeout} s")
        await asyncio.sleep(POLL_INTERVAL)


async def servers_holding(live, *clients):
    """Connect each client (a :class:`~tests.support.resuming_client.ResumingClient`) in
    turn; the index of the server that holds each one's socket."""
    return [(await server_holding(live, client.connect()))[0] for client in clients]


def server_holding(live, connect_coroutine):
    """Run ``connect_coroutine`` and tell which server index gained a connection."""

    async def run():
        before = [established(port) for port in live.servers.ports]
        result = await connect_coroutine
        after = [established(port) for port in live.servers.ports]
        gained = [i for i, (b, a) in enumerate(zip(before, after)) if a > b]
        assert len(gained) == 1, (before, after)
        return gained[0], result

    return run()
