"""``/metrics``: Prometheus's text format, each metric moved by its event, who may read it,
and several server processes counted as one."""

import subprocess
import sys
from pathlib import Path

import pytest
from channels.db import database_sync_to_async

from {{ cookiecutter.project_slug }}.chat.models import Room
from {{ cookiecutter.project_slug }}.realtime import metrics

from tests.conftest import assert_closed_with, join, wait_for_frame
from tests.scrape import Metrics, get_metrics, scrape

pytestmark = pytest.mark.django_db(transaction=True)
PROJECT_ROOT = Path(__file__).resolve().parent.parent


async def test_the_scrape_is_prometheus_text_with_every_metric():
    scraped = await scrape()
    assert {
        "realtime_sockets_open",
        "realtime_frames_received",
        "realtime_frames_sent",
        "realtime_group_sends",
        "realtime_frames_rate_limited",
        "realtime_closes",
        "realtime_handshakes_refused",
    } <= scraped.families.keys()
    assert scraped.families["realtime_sockets_open"].type == "gauge"
    assert scraped.families["realtime_frames_received"].type == "counter"
    for reason in ("origin", "no_route", "not_authenticated", "forbidden", "going_away"):
        assert ("realtime_handshakes_refused_total", frozenset({("reason", reason)})) in (
            scraped.samples
        ), f"{reason} is not listed before the first refusal"


async def test_an_open_socket_counts_until_it_closes(connect):
    before = await scrape()
    socket = await connect("/ws/echo/")
    opened = await scrape()
    assert opened("realtime_sockets_open", endpoint="echo") == (
        before("realtime_sockets_open", endpoint="echo") + 1
    )
    await socket.disconnect(1001)
    closed = await scrape()
    assert closed("realtime_sockets_open", endpoint="echo") == (
        before("realtime_sockets_open", endpoint="echo")
    )
    assert closed("realtime_closes_total", endpoint="echo", code="1001") == (
        before("realtime_closes_total", endpoint="echo", code="1001") + 1
    )


async def test_frames_in_and_out_are_counted(connect):
    socket = await connect("/ws/echo/")
    before = await scrape()
    await socket.send_json_to({"type": "echo", "text": "one"})
    await socket.send_to(text_data="not json")
    await wait_for_frame(socket, type="echo")
    await wait_for_frame(socket, type="error", code="invalid_json")
    after = await scrape()
    for name in ("realtime_frames_received_total", "realtime_frames_sent_total"):
        assert after(name, endpoint="echo") == before(name, endpoint="echo") + 2, name


async def test_a_group_send_and_its_frames_are_counted(connect, alice, bob):
    alice_socket, _, _ = await join(connect, alice)
    bob_socket, _, _ = await join(connect, bob)
    await wait_for_frame(alice_socket, type="presence", event="join", user="bob")
    before = await scrape()
    await alice_socket.send_json_to({"type": "message", "text": "hello"})
    for socket in (alice_socket, bob_socket):
        await wait_for_frame(socket, type="message", text="hello")
    after = await scrape()
    assert after("realtime_group_sends_total", endpoint="chat") == (
        before("realtime_group_sends_total", endpoint="chat") + 1
    )
    # The room's frame, once to each of its two sockets.
    assert after("realtime_frames_sent_total", endpoint="chat") == (
        before("realtime_frames_sent_total", endpoint="chat") + 2
    )


async def test_a_flood_counts_its_dropped_frames_and_its_4008(connect, settings):
    settings.RATE_LIMIT_BURST = 2
    settings.RATE_LIMIT_PER_SECOND = 0  # no refill: the test does not depend on timing
    settings.RATE_LIMIT_FLOOD_DROPS = 3
    before = await scrape()
    socket = await connect("/ws/echo/")
    for number in range(6):
        await socket.send_json_to({"type": "echo", "text": str(number)})
    # Two echoes and a rate_limited error come first.
    while (output := await socket.receive_output())["type"] != "websocket.close":
        pass
    assert output["code"] == 4008
    await socket.disconnect()
    after = await scrape()
    # Two frames within the burst, then four dropped: the fourth is one too many.
    assert after("realtime_frames_rate_limited_total", endpoint="echo") == (
        before("realtime_frames_rate_limited_total", endpoint="echo") + 4
    )
    assert after("realtime_closes_total", endpoint="echo", code="4008") == (
        before("realtime_closes_total", endpoint="echo", code="4008") + 1
    )


@database_sync_to_async
def private_room(name, *members):
    Room.objects.create(name=name, is_private=True).members.set(members)


async def test_refused_handshakes_are_counted_by_reason(connect, alice, bob):
    await private_room("metrics-private", alice)
    before = await scrape()
    await connect("/ws/nowhere/", alice, accepted=False)
    await connect("/ws/echo/", origin=(b"origin", b"http://evil.example"), accepted=False)
    await assert_closed_with(await connect("/ws/notifications/"), 4001)
    await assert_closed_with(await connect("/ws/chat/metrics-private/", bob), 4003)
    after = await scrape()
    for reason in ("no_route", "origin", "not_authenticated", "forbidden"):
        assert after("realtime_handshakes_refused_total", reason=reason) == (
            before("realtime_handshakes_refused_total", reason=reason) + 1
        ), reason


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "10.1.2.3", "192.168.1.20", "fd00::7"])
async def test_private_and_loopback_addresses_may_scrape(address):
    status, _ = await get_metrics(client=address)
    assert status == 200


@pytest.mark.parametrize("address", ["8.8.8.8", "2001:4860:4860::8888", "::ffff:8.8.8.8", None])
async def test_anyone_else_gets_403(address):
    status, _ = await get_metrics(client=address)
    assert status == 403


async def test_the_metrics_token_lets_any_address_scrape(settings):
    settings.METRICS_TOKEN = "a-token-for-the-scraper"
    public = "8.8.8.8"
    status, _ = await get_metrics(
        client=public, headers=[(b"authorization", b"Bearer a-token-for-the-scraper")]
    )
    assert status == 200
    for wrong in (b"Bearer another-token", b"Token a-token-for-the-scraper", b"Bearer "):
        status, _ = await get_metrics(client=public, headers=[(b"authorization", wrong)])
        assert status == 403, wrong


async def test_without_a_metrics_token_no_token_is_accepted(settings):
    settings.METRICS_TOKEN = ""
    status, _ = await get_metrics(client="8.8.8.8", headers=[(b"authorization", b"Bearer ")])
    assert status == 403


# --- several server processes on one machine ---------------------------------------------

# A server process as far as the metrics go: it opens sockets and takes frames, says so,
# then lives until the test closes its stdin.
SERVER = """
import sys
from {{ cookiecutter.project_slug }}.realtime import metrics

echo = metrics.for_endpoint("echo")
for _ in range(int(sys.argv[1])):
    echo.opened()
    echo.frames_received.inc()
print("counted", flush=True)
sys.stdin.read()
"""


class Server:
    def __init__(self, directory, sockets):
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(sockets)],
            cwd=PROJECT_ROOT,
            env={
                "PATH": "/usr/bin:/bin",
                "PROMETHEUS_MULTIPROC_DIR": str(directory),
                "DJANGO_SETTINGS_MODULE": "config.settings.test",
            },
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout.readline() == "counted\n"

    def stop(self):
        self.process.stdin.close()
        self.process.wait(timeout=30)


def scrape_directory(directory):
    return Metrics(metrics.exposition(directory).decode())


def test_the_server_processes_of_a_machine_are_counted_together(tmp_path):
    assert metrics.prepare(tmp_path) is True  # nobody serves yet: a fresh directory
    one, other = Server(tmp_path, 2), Server(tmp_path, 3)
    try:
        both = scrape_directory(tmp_path)
        assert both("realtime_sockets_open", endpoint="echo") == 5
        assert both("realtime_frames_received_total", endpoint="echo") == 5

        # A server that starts while another runs leaves the directory as it is.
        assert metrics.prepare(tmp_path) is False
        one.stop()
        # The sockets of a process that ended leave the sum; what it counted stays.
        left = scrape_directory(tmp_path)
        assert left("realtime_sockets_open", endpoint="echo") == 3
        assert left("realtime_frames_received_total", endpoint="echo") == 5
    finally:
        one.stop()
        other.stop()
    # The machine's last server has gone: the next start begins from nothing.
    assert metrics.prepare(tmp_path) is True
    assert not list(tmp_path.glob("*.db"))
