"""Property-based fuzzing of client frames on every WebSocket endpoint.

Whatever malformed frame a client sends, only an error frame comes back, the connection
stays usable, nothing is stored and nothing is logged as an error. The default profile
runs a few hundred frames per endpoint; ``pytest --hypothesis-profile=fuzz`` runs
thousands (see conftest.py).
"""

import json
import logging

import pytest
from django.conf import settings
from hypothesis import given
from hypothesis import strategies as st

from {{ cookiecutter.project_slug }}.chat.models import Message
from {{ cookiecutter.project_slug }}.notifications.models import Notification

from tests.conftest import join, wait_for_frame

pytestmark = pytest.mark.django_db(transaction=True)

ERROR_CODES = {"invalid_json", "invalid_message", "unknown_type", "too_large"}

# Built from unions rather than filters: rejected draws would make the fuzzing slow.
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
json_leaves = scalars | st.text(max_size=20)
keys = st.text(max_size=8)
containers = st.lists(json_leaves, max_size=4) | st.dictionaries(keys, json_leaves, max_size=4)
json_values = json_leaves | containers
not_a_string = scalars | containers
not_an_int = st.none() | st.booleans() | st.floats() | st.text(max_size=5) | containers
blank_strings = st.text(alphabet=" \t\n\r\u00a0\u2003", max_size=5)
lone_surrogates = st.integers(0xD800, 0xDFFF).map(chr)


def too_long(limit):
    """Strings of more than ``limit`` characters (a short random text repeated)."""
    return st.tuples(st.text(min_size=1, max_size=3), st.integers(limit + 1, limit + 50)).map(
        lambda drawn: (drawn[0] * (limit + 50))[: drawn[1]]
    )


def frame_with(**fields):
    """A JSON object frame with these field strategies, plus random unknown keys."""
    extra = st.dictionaries(keys.map(lambda key: f"x-{key}"), json_values, max_size=3)
    return st.tuples(st.fixed_dictionaries(fields), extra).map(lambda d: {**d[1], **d[0]})


def unknown_types(known):
    """Objects whose ``type`` is missing, not a string, or not one of ``known``."""
    other_names = st.text(max_size=12).map(lambda name: name if name not in known else f"{name}!")
    return frame_with(type=other_names | not_a_string) | st.dictionaries(
        keys.map(lambda key: f"x-{key}"), json_values, max_size=4
    )


def oversized(frame_type):
    limit = settings.MAX_FRAME_BYTES
    return st.integers(limit, 2 * limit).map(
        lambda n: json.dumps({"type": frame_type, "text": "x" * n})
    )


def as_text(frames):
    return frames.map(lambda frame: ("text", json.dumps(frame)))


def malformed(known_types, bad_known_frames, frame_type):
    """Every kind of bad frame an endpoint can get."""
    return st.one_of(
        st.binary(max_size=64).map(lambda data: ("bytes", data)),
        st.text(max_size=40).map(lambda text: ("text", text)),
        as_text(json_leaves | st.lists(json_values, max_size=4)),
        as_text(unknown_types(known_types)),
        as_text(bad_known_frames),
        oversized(frame_type).map(lambda text: ("text", text)),
    )


ECHO = malformed(
    {"echo"},
    frame_with(type=st.just("echo"), text=not_a_string | lone_surrogates),
    "echo",
)
CHAT = malformed(
    {"message", "typing", "ping", "history"},
    st.one_of(
        frame_with(type=st.just("message"), text=not_a_string | blank_strings),
        frame_with(type=st.just("message"), text=too_long(2000)),
        frame_with(type=st.just("message"), text=st.just("ok"), client_id=st.booleans()),
        frame_with(type=st.just("message"), text=st.just("ok"), client_id=st.integers()),
        frame_with(type=st.just("message"), text=st.just("ok"), client_id=containers),
        frame_with(type=st.just("message"), text=st.just("ok"), client_id=too_long(64)),
        frame_with(type=st.just("history"), before=not_an_int | st.integers(max_value=-1)),
        frame_with(
            type=st.just("history"),
            before=st.integers(min_value=0),
            limit=st.booleans()
            | st.floats()
            | st.text(max_size=5)
            | st.integers(max_value=0)
            | st.integers(min_value=101),
        ),
    ),
    "message",
)
NOTIFICATIONS = malformed({"ping"}, st.nothing(), "ping")


@pytest.fixture
def unlimited(settings):
    """Fuzzing sends frames as fast as it can: take the rate limit out of the way."""
    settings.RATE_LIMIT_BURST = 10**9


async def send(socket, frame):
    kind, data = frame  # kind is "text" or "bytes", data may be empty
    await socket.send_input({"type": "websocket.receive", kind: data})


async def assert_only_errors_came_back(socket, frame):
    await send(socket, frame)
    reply = await socket.receive_json_from()
    assert reply["type"] == "error", (frame, reply)
    assert reply["code"] in ERROR_CODES, (frame, reply)


async def assert_still_usable(socket, probe, expected):
    await socket.send_json_to(probe)
    assert await socket.receive_json_from() == expected


@pytest.fixture
async def echo_socket(connect, unlimited):
    return await connect("/ws/echo/")


@pytest.fixture
async def chat_socket(connect, alice, unlimited):
    socket, *_ = await join(connect, alice)
    await wait_for_frame(socket, type="presence", event="join", user="alice")
    return socket


@pytest.fixture
async def notifications_socket(connect, alice, unlimited):
    socket = await connect("/ws/notifications/", alice)
    for _ in range(2):  # welcome, history
        await socket.receive_json_from()
    return socket


@pytest.fixture
def harmless(caplog):
    """After all the examples: nothing was stored and nothing was logged as an error."""
    caplog.set_level(logging.WARNING)
    yield
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert not Message.objects.exists()
    assert not Notification.objects.exists()


@given(frame=ECHO)
async def test_echo_fuzz(echo_socket, harmless, frame):
    await assert_only_errors_came_back(echo_socket, frame)
    await assert_still_usable(
        echo_socket, {"type": "echo", "text": "ok"}, {"type": "echo", "text": "ok"}
    )


@given(frame=CHAT)
async def test_chat_fuzz(chat_socket, harmless, frame):
    await assert_only_errors_came_back(chat_socket, frame)
    await assert_still_usable(chat_socket, {"type": "ping"}, {"type": "pong"})


@given(frame=NOTIFICATIONS)
async def test_notifications_fuzz(notifications_socket, harmless, frame):
    await assert_only_errors_came_back(notifications_socket, frame)
    await assert_still_usable(notifications_socket, {"type": "ping"}, {"type": "pong"})
