"""``/metrics``: what the WebSocket endpoints do, in Prometheus's text format.

Every metric is defined here, once. ``FrameConsumer`` moves those of its endpoint (the app
that defines the consumer: chat, echo, notifications), ``realtime/handshake.py`` counts the
handshakes refused before any consumer runs, ``realtime/fanout.py`` the frames of groups.
Other apps add metrics read at each scrape (:func:`add_collector`), as the jobs app does.

Several server processes on one machine count as one. With ``PROMETHEUS_MULTIPROC_DIR``
set (``deploy/serve.sh`` sets it), each process keeps its figures in files there and a
scrape of any process adds up the files of all (prometheus-client's multiprocess mode).
The open sockets of a process that ended leave the sum at the next scrape; what it counted
stays in, so that no total goes back while a server of the machine runs. The directory is
emptied when the first server starts (:func:`prepare`).

Who may scrape (docs/deployment.md, "Metrics"): a client at a private or loopback address,
as the server sees it, or one that sends ``Authorization: Bearer <METRICS_TOKEN>``. Anyone
else gets 403. nginx refuses ``/metrics`` itself.
"""

import fcntl
import hmac
import ipaddress
import os
import sys
from contextlib import suppress
from functools import cache
from pathlib import Path

from channels.db import database_sync_to_async
from django.conf import settings
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
    multiprocess,
)

from {{ cookiecutter.project_slug }}.realtime.protocol import CloseCode

PATH = "/metrics"
# prometheus-client chooses its mode from this variable when it is imported: follow it
# rather than a setting, so that the two cannot disagree.
DIRECTORY = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
# Held (shared) by every server process that writes to the directory; see prepare().
LOCK = "serving.lock"
PROC = Path("/proc")

# The figures of this process alone, when there is no directory.
registry = CollectorRegistry()

SOCKETS_OPEN = Gauge(
    "realtime_sockets_open",
    "WebSockets accepted and not yet closed, per endpoint.",
    ["endpoint"],
    multiprocess_mode="livesum",
    registry=registry,
)
FRAMES_RECEIVED = Counter(
    "realtime_frames_received",
    "Frames received from clients, per endpoint, whatever became of them.",
    ["endpoint"],
    registry=registry,
)
FRAMES_SENT = Counter(
    "realtime_frames_sent",
    "Frames queued for clients, per endpoint: a group's frame once per member here.",
    ["endpoint"],
    registry=registry,
)
GROUP_SENDS = Counter(
    "realtime_group_sends",
    "Events the consumers sent to a channel layer group, per endpoint.",
    ["endpoint"],
    registry=registry,
)
FRAMES_RATE_LIMITED = Counter(
    "realtime_frames_rate_limited",
    "Frames dropped over the per-connection rate, per endpoint.",
    ["endpoint"],
    registry=registry,
)
CLOSES = Counter(
    "realtime_closes",
    "WebSockets closed, per endpoint and close code: the server's code when it closed, "
    "else the client's (1006: no close frame).",
    ["endpoint", "code"],
    registry=registry,
)
HANDSHAKES_REFUSED = Counter(
    "realtime_handshakes_refused",
    "WebSocket handshakes refused, per reason.",
    ["reason"],
    registry=registry,
)
# origin and no_route: HTTP 403 before any consumer; the others: accepted, then closed
# with their close code (CloseCode's names).
REFUSALS = ("origin", "no_route", "not_authenticated", "forbidden", "going_away")
PROTOCOL_CODES = frozenset(CloseCode)

# Collectors that read their figures when scraped (see add_collector).
collectors = []


class Endpoint:
    """The metrics of one endpoint, with their label set once: a consumer class holds one."""

    def __init__(self, name):
        self.name = name
        self.sockets_open = SOCKETS_OPEN.labels(name)
        self.frames_received = FRAMES_RECEIVED.labels(name)
        self.frames_sent = FRAMES_SENT.labels(name)
        self.group_sends = GROUP_SENDS.labels(name)
        self.frames_rate_limited = FRAMES_RATE_LIMITED.labels(name)

    def opened(self):
        self.sockets_open.inc()

    def closed(self, code):
        self.sockets_open.dec()
        CLOSES.labels(self.name, close_code_label(code)).inc()


def for_consumer(consumer_class):
    """The metrics of the endpoint of ``consumer_class``: the app whose module defines it
    (``<project>.chat.consumers`` is "chat")."""
    module = consumer_class.__module__.split(".")
    return for_endpoint(module[-2] if len(module) > 1 else module[0])


@cache
def for_endpoint(name):
    start_counting()
    return Endpoint(name)


def refused(reason):
    """Count a handshake refused for ``reason``, one of REFUSALS."""
    HANDSHAKES_REFUSED.labels(reason).inc()


def close_code_label(code):
    """The close codes of the protocol and of the WebSocket standard (1000 to 1015) each
    have a series; any other code a client sends is "other", so that clients cannot make
    thousands of series."""
    if code is None:
        return "1006"
    if code in PROTOCOL_CODES or 1000 <= code <= 1015:
        return str(code)
    return "other"


def add_collector(collector):
    """Scrape ``collector`` too: an object whose ``collect()`` yields metric families, read
    at each scrape (for figures kept elsewhere, such as the jobs in the database)."""
    collectors.append(collector)


# --- several processes -------------------------------------------------------------------


@cache
def start_counting():
    """Once per process, before it counts anything. With a directory: hold its lock
    (shared), which tells :func:`prepare` that a server uses the directory, and forget the
    open sockets that an earlier process of the same id left there. Returns the lock's
    file, kept open for the life of the process."""
    lock = None
    if DIRECTORY:
        # Not closed: the lock is held until the process ends.
        lock = open(Path(DIRECTORY) / LOCK, "a")  # noqa: SIM115
        fcntl.flock(lock, fcntl.LOCK_SH)
        multiprocess.mark_process_dead(os.getpid(), DIRECTORY)
    for reason in REFUSALS:  # every reason listed, at zero, from the first scrape on
        HANDSHAKES_REFUSED.labels(reason)
    return lock


def prepare(directory):
    """Make the directory ready for a server that is about to start (``deploy/serve.sh``).

    prometheus-client wants it emptied before a run: files of an earlier run would be added
    in. But another server of the machine may use it already (two servers behind one nginx,
    one of them restarted): then its files stay, as emptying would take that server's
    sockets and counts out of every scrape. Returns whether the directory was emptied.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / LOCK, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        for path in directory.glob("*.db"):
            path.unlink()
        return True


def forget_ended_processes(directory):
    """Take the open sockets of processes that have ended (a crash, a restarted worker) out
    of the sum; their counts stay."""
    for path in Path(directory).glob("gauge_live*_*.db"):
        pid = int(path.stem.rpartition("_")[2])
        if not running(pid):
            # Another process's scrape may be removing them too.
            with suppress(FileNotFoundError):
                multiprocess.mark_process_dead(pid, str(directory))


def running(pid):
    """Whether process ``pid`` runs: a process that ended and waits for its parent to reap
    it (a zombie) does not."""
    if PROC.is_dir():
        try:
            stat = (PROC / str(pid) / "stat").read_text()
        except FileNotFoundError:
            return False
        return stat.rpartition(")")[2].split()[0] != "Z"
    try:  # no /proc: zombies count as running
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's
        return True
    return True


# --- the endpoint --------------------------------------------------------------------------


class Scrape:
    """What one scrape reports: the figures of every process that keeps them in
    ``directory`` (or of this process alone), then the collectors'."""

    def __init__(self, directory):
        self.directory = directory

    def collect(self):
        if self.directory:
            forget_ended_processes(self.directory)
            yield from multiprocess.MultiProcessCollector(None, path=self.directory).collect()
        else:
            yield from registry.collect()
        for collector in collectors:
            yield from collector.collect()


def exposition(directory=DIRECTORY):
    """The text format of every metric, as bytes."""
    return generate_latest(Scrape(directory))


def client_address(scope):
    """The client's address as the server sees it: behind a proxy that it trusts
    (``--proxy-headers``), the first address of ``X-Forwarded-For``."""
    client = scope.get("client")
    return client[0] if client else None


def is_private(address):
    try:
        address = ipaddress.ip_address(address)
    except (TypeError, ValueError):
        return False
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_private or address.is_loopback


def has_token(scope):
    token = settings.METRICS_TOKEN
    if not token:
        return False
    expected = f"Bearer {token}".encode()
    given = dict(scope.get("headers", [])).get(b"authorization", b"")
    return hmac.compare_digest(given, expected)


def may_scrape(scope):
    return is_private(client_address(scope)) or has_token(scope)


def with_metrics(application):
    """``application``, with ``/metrics`` answered before it.

    Before Django: a scraper names the server by its address, which ``ALLOWED_HOSTS`` does
    not list, and talks plain HTTP on the private network, which the production settings
    would redirect to HTTPS.
    """

    async def serve(scope, receive, send):
        if scope["type"] != "http" or scope["path"] != PATH:
            return await application(scope, receive, send)
        if not may_scrape(scope):
            body = b"Metrics are for private addresses, or with the metrics token.\n"
            await respond(send, 403, "text/plain; charset=utf-8", body)
            return
        # Files to read, and the database for the jobs: in Django's thread, not the loop.
        body = await database_sync_to_async(exposition)()
        await respond(send, 200, CONTENT_TYPE_LATEST, body)

    return serve


async def respond(send, status, content_type, body):
    headers = [(b"content-type", content_type.encode()), (b"cache-control", b"no-store")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


if __name__ == "__main__":
    # deploy/serve.sh, before the server: python -m <this module> "$PROMETHEUS_MULTIPROC_DIR"
    prepare(sys.argv[1])
