import pytest
{%- if cookiecutter.channel_layer == "redis" %}
import redis
{%- endif %}
from channels import DEFAULT_CHANNEL_LAYER
from channels.layers import channel_layers, get_channel_layer
from channels.testing import WebsocketCommunicator
{%- if cookiecutter.channel_layer == "redis" %}
from django.conf import settings
{%- endif %}
from django.contrib.auth import get_user_model
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from {{ cookiecutter.project_slug }}.realtime import presence

from config.asgi import application
from tests.clients import credentials

# Fuzz tests reuse one connection for all their examples, on purpose.
hypothesis_settings.register_profile(
    "default",
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# The template's full run: thousands of frames per endpoint.
hypothesis_settings.register_profile(
    "fuzz", parent=hypothesis_settings.get_profile("default"), max_examples=3000
)
hypothesis_settings.load_profile("default")

# A browser on one of our own pages sends this Origin (test settings allow "testserver").
SAME_ORIGIN = (b"origin", b"http://testserver")
# How long a test waits for a frame that must come. Channels' default of 1 s is short
# for a busy CI machine, and a wait that runs out cancels the application under test.
RECEIVE_TIMEOUT = 10


class Communicator(WebsocketCommunicator):
    """WebsocketCommunicator that waits up to RECEIVE_TIMEOUT for what must arrive.

    The methods keep channels' signatures, ``timeout`` argument included.
    """

    async def receive_output(self, timeout=RECEIVE_TIMEOUT):  # noqa: ASYNC109
        return await super().receive_output(max(timeout, RECEIVE_TIMEOUT))

    async def disconnect(self, code=1000, timeout=RECEIVE_TIMEOUT):  # noqa: ASYNC109
        await super().disconnect(code, max(timeout, RECEIVE_TIMEOUT))
{% if cookiecutter.channel_layer == "redis" %}

def pytest_sessionstart(session):
    """The tests use the real Redis layer: without a server, say so in one line and stop."""
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.ConnectionError as error:
        pytest.exit(
            f"The tests need Redis at {settings.REDIS_URL} ({error}). Start it with "
            "`redis-server`, or point REDIS_TEST_URL at another one.",
            returncode=1,
        )
    finally:
        client.close()
{% endif %}

@pytest.fixture(autouse=True)
async def channel_layer():
    """The project's real channel layer, emptied after each test with who was where.

    Each test gets a layer of its own: a layer is bound to the event loop that first
    uses it, and every test runs in a new loop.
    """
    channel_layers.backends.pop(DEFAULT_CHANNEL_LAYER, None)
    layer = get_channel_layer()
    yield layer
    await layer.flush()
    await presence.clear()


@pytest.fixture
def make_user(db):
    def make_user(username, **fields):
        return get_user_model().objects.create_user(username, password="pw-for-tests", **fields)

    return make_user


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def bob(make_user):
    return make_user("bob")


@pytest.fixture
async def connect():
    """Open a WebSocket to the full ASGI application, middleware and routing included.

    ``await connect(path, user)`` returns a communicator that completed the handshake;
    ``accepted=False`` expects the handshake to be refused instead. Every socket still
    open at the end of the test is closed.
    """
    opened = []

    async def connect(path, user=None, *, origin=SAME_ORIGIN, headers=(), accepted=True):
        all_headers = [*([origin] if origin else []), *headers]
        if user is not None:
            all_headers += await credentials(user)
        communicator = Communicator(application, path, headers=all_headers)
        connected, _ = await communicator.connect()
        assert connected is accepted, f"handshake to {path}: expected accepted={accepted}"
        if connected:
            opened.append(communicator)
        return communicator

    yield connect
    for communicator in opened:
        # An application that already ended (it raised, or a wait that ran out cancelled
        # it) has nothing left to close, and says why in the test's own failure.
        if not communicator.future.done():
            await communicator.disconnect()


async def join(connect, user, room="lobby", query=""):
    """Connect ``user`` to a chat room; return the socket, its welcome and its history,
    the two frames that the protocol sends first and in this order."""
    socket = await connect(f"/ws/chat/{room}/{query}", user)
    welcome = await socket.receive_json_from()
    assert welcome["type"] == "welcome", welcome
    history = await socket.receive_json_from()
    assert history["type"] == "history", history
    return socket, welcome, history


# Frames the protocol lets arrive between any two others: who came or went, who types.
INTERLEAVING = frozenset({"presence", "typing"})


async def wait_for_frames(communicator, *expected):
    """Receive until every frame of ``expected`` came, in whatever order; return them in
    the order of ``expected``.

    Each expected frame is a dict of the keys and values it must have. A frame that
    matches none of them is passed over when its type may interleave (INTERLEAVING);
    anything else fails the test: it is a frame this test did not expect.
    """
    found = [None] * len(expected)
    passed_over = []
    while None in found:
        try:
            frame = await communicator.receive_json_from()
        except TimeoutError:
            missing = [e for e, f in zip(expected, found, strict=True) if f is None]
            raise AssertionError(
                f"no frame {missing} within {RECEIVE_TIMEOUT} s; passed over {passed_over}"
            ) from None
        for index, wanted in enumerate(expected):
            if found[index] is None and wanted.items() <= frame.items():
                found[index] = frame
                break
        else:
            assert frame.get("type") in INTERLEAVING, f"waiting for {expected}, got {frame}"
            passed_over.append(frame)
    return found


async def wait_for_frame(communicator, **expected):
    """The first frame with ``expected``'s keys and values (see :func:`wait_for_frames`)."""
    [frame] = await wait_for_frames(communicator, expected)
    return frame


async def quiet(communicator):
    """True when nothing but presence frames arrives for a moment (typing counts: the
    tests that check for quiet are the ones where nobody else types)."""
    while not await communicator.receive_nothing():
        if (await communicator.receive_json_from()).get("type") != "presence":
            return False
    return True


async def assert_closed_with(communicator, code, reason=None):
    """The server closes the connection with ``code`` and a reason a person can read
    (``reason``, when given), and sends no data frame first."""
    output = await communicator.receive_output()
    assert (output["type"], output["code"]) == ("websocket.close", code), output
    assert 0 < len(output.get("reason", "").encode()) <= 123, output
    if reason is not None:
        assert output["reason"] == reason, output
