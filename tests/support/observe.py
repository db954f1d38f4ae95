"""What the operating system tells about a server: its connections, its memory, its log."""

import asyncio
import time

from tests.support.deployment import DeploymentError

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
    raise DeploymentError(f"no VmRSS for process {pid}")


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


def server_holding(live, connect_coroutine):
    """Run ``connect_coroutine`` and tell which server index gained a connection."""

    async def run():
        before = [established(port) for port in live.server_ports]
        result = await connect_coroutine
        after = [established(port) for port in live.server_ports]
        gained = [i for i, (b, a) in enumerate(zip(before, after)) if a > b]
        assert len(gained) == 1, (before, after)
        return gained[0], result

    return run()
