"""A graceful stop (``realtime/drain.py``): on SIGTERM every WebSocket is closed with 1001,
and the server stops once they have closed.

The server is played by a SIGTERM handler of the test's, installed before the first
WebSocket as Daphne and Uvicorn install theirs; the signal is a real one, sent to this
process.
"""

import asyncio
import json
import os
import signal

import pytest
from asgiref.sync import SyncToAsync

from {{ cookiecutter.project_slug }}.realtime import drain, presence
from {{ cookiecutter.project_slug }}.realtime.protocol import CLOSE_REASONS, CloseCode

from tests.conftest import INTERLEAVING, RECEIVE_TIMEOUT, join

pytestmark = pytest.mark.django_db(transaction=True)

GOING_AWAY = {
    "type": "websocket.close",
    "code": CloseCode.GOING_AWAY,
    "reason": CLOSE_REASONS[CloseCode.GOING_AWAY],
}


async def assert_going_away(communicator):
    """The connection is closed with 1001 and its reason; only frames that may
    interleave (her own presence, say) come before."""
    while (output := await communicator.receive_output())["type"] == "websocket.send":
        assert json.loads(output["text"])["type"] in INTERLEAVING, output
    assert output == GOING_AWAY


@pytest.fixture
def process(monkeypatch):
    """A fresh :class:`drain.Drain` for this test, as a process that just started has."""
    fresh = drain.Drain()
    monkeypatch.setattr(drain, "current", fresh)
    return fresh


@pytest.fixture
def server(process):
    """A server's SIGTERM handler, which only notes that the server was told to stop;
    the handler that was there before comes back after the test."""
    stopped = asyncio.Event()
    before = signal.signal(signal.SIGTERM, lambda signum, frame: stopped.set())
    yield stopped
    signal.signal(signal.SIGTERM, before)


async def test_sigterm_closes_every_socket_with_1001_then_stops_the_server(connect, alice, server):
    socket, _, _ = await join(connect, alice)
    os.kill(os.getpid(), signal.SIGTERM)
    await assert_going_away(socket)
    # Until alice answers, the process is draining: not ready, and refusing newcomers.
    assert not server.is_set()
    late = await connect("/ws/echo/")
    await assert_going_away(late)
    await late.disconnect(code=CloseCode.GOING_AWAY)
    await socket.disconnect(code=CloseCode.GOING_AWAY)
    async with asyncio.timeout(RECEIVE_TIMEOUT):
        await server.wait()
    # Her consumer's disconnect() ran: she left the room.
    assert await presence.counts(["lobby"]) == {"lobby": 0}


async def test_sigterm_in_the_middle_of_a_handler_still_drains(connect, alice, server):
    """The signal interrupts whatever runs, here a task that waits on a sync handler
    (asgiref marks its context so); the drain must not inherit that context."""
    socket, _, _ = await join(connect, alice)
    waiting_on_sync = SyncToAsync.deadlock_context.set(True)
    try:
        os.kill(os.getpid(), signal.SIGTERM)
    finally:
        SyncToAsync.deadlock_context.reset(waiting_on_sync)
    await assert_going_away(socket)
    await socket.disconnect(code=CloseCode.GOING_AWAY)
    async with asyncio.timeout(RECEIVE_TIMEOUT):
        await server.wait()


async def test_healthz_is_503_while_draining(async_client, process):
    process.draining = True
    response = await async_client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "server": "draining"}


async def test_a_client_that_never_answers_delays_the_stop_by_the_timeout_only(
    connect, alice, process
):
    socket, _, _ = await join(connect, alice)
    process.timeout = 0.1
    stopped = []
    async with asyncio.timeout(RECEIVE_TIMEOUT):
        await process.drain(lambda signum, frame: stopped.append(signum))
    assert stopped == [signal.SIGTERM]
    await assert_going_away(socket)


async def test_nothing_is_installed_where_no_server_handles_sigterm(connect, process):
    """The test suite, a management command: SIGTERM keeps its default, ending the process."""
    await connect("/ws/echo/")
    assert process.installed
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
