"""A graceful stop, live: SIGTERM to one of two server processes behind nginx.

Its clients are closed with 1001 and a reason (``realtime/drain.py`` in the baked
project), reconnect through nginx to the other process and resume with ``since``:
nothing lost, nothing doubled, and presence right within seconds, as the drained
consumers ran their ``disconnect()``. The stopped process exits by itself, in bounded
time. Runs on Daphne and on Uvicorn (the combinations with Redis: two processes).
"""

import signal
import time

import pytest

from tests.support.observe import servers_holding
from tests.support.resuming_client import (
    RECONNECT_TIMEOUT,
    Delivery,
    ResumingClient,
    catch_up,
    seconds_until_seen_leaving,
    stored_history,
    talk,
)
from tests.support.servers import sigterm
from tests.support.websocket import room_name, said

pytestmark = pytest.mark.stage("drain")

GOING_AWAY = 1001
REASON = "server restarting, reconnect"
# Seconds for the stopped process to exit: the drain's bound (DRAIN_TIMEOUT, 5 s), then
# the server's own shutdown.
EXIT_LIMIT = 15
# Seconds for the other user to see the drained connections gone from the members: the
# drained consumer's disconnect() removes them at once; without it they would stay for
# PRESENCE_TTL (60 s).
PRESENCE_SETTLE = 5
# How a server process ends on SIGTERM: Daphne returns, Uvicorn raises the signal again
# once it has shut down.
NORMAL_EXIT = {"daphne": 0, "uvicorn": -signal.SIGTERM}


def test_a_stopping_server_hands_its_clients_over_gracefully(live):
    """alice and bob talk through nginx; the server holding alice gets SIGTERM while her
    message is in flight. She is closed with 1001, reconnects through nginx to the other
    process and resumes: every message stored once and seen once by each of them. bob
    sees alice once in the members throughout, and her leaving within seconds once she
    leaves. The stopped process exits by itself within the bounded time."""
    room = room_name("drain")

    async def scenario():
        alice, bob = ResumingClient(live, room, "alice"), ResumingClient(live, room, "bob")
        victim, bobs_server = await servers_holding(live, alice, bob)
        on_victim = [alice] + [bob] * (bobs_server == victim)
        await talk([alice, bob])
        in_flight = await alice.say()
        stopping = time.monotonic()
        exit_code = await sigterm(live.servers, victim, EXIT_LIMIT)
        for client in on_victim:
            await client.reconnect_if_lost()
        back_after = time.monotonic() - stopping
        await catch_up(alice, bob, in_flight)
        exited_with = await exit_code
        exited_after = time.monotonic() - stopping
        members = await bob.until(lambda: bob.members == ["alice", "bob"], PRESENCE_SETTLE)
        assert members, bob.members
        history = await stored_history(live, room)
        alice_left_after = await seconds_until_seen_leaving(alice, bob, PRESENCE_SETTLE)
        await bob.close()

        delivery = Delivery([alice, bob], history)
        live.record(
            "sigterm",
            delivery.figures()
            | {
                "reconnected_s": round(back_after, 2),
                "server_exited_s": round(exited_after, 2),
                "exit_status": exited_with,
                "presence_leave_s": round(alice_left_after, 2),
                "clients_on_stopped_server": len(on_victim),
            },
        )
        assert alice.closes[0] == (GOING_AWAY, said(live, REASON))
        assert exited_with == NORMAL_EXIT[live.combination["server"]]
        assert exited_after <= EXIT_LIMIT
        assert back_after <= RECONNECT_TIMEOUT
        delivery.assert_exactly_once(21)

    try:
        live.run(scenario)
    finally:
        live.servers.restart_stopped()
