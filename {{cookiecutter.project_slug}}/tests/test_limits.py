"""Per-connection limits: the token bucket, rate_limited errors and the 4008 cut-off."""

import pytest

from {{ cookiecutter.project_slug }}.realtime.limits import Flooding, RateLimiter
from {{ cookiecutter.project_slug }}.realtime.protocol import FrameError, FrameRefused

from tests.conftest import assert_closed_with, quiet, wait_for_frames

pytestmark = pytest.mark.django_db(transaction=True)


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def limiter(clock, **overrides):
    options = {"burst": 3, "per_second": 1, "flood_drops": 4, "flood_window": 10} | overrides
    return RateLimiter(clock=clock, **options)


def test_the_bucket_allows_a_burst_then_refills_at_the_rate():
    clock = Clock()
    bucket = limiter(clock)
    for _ in range(3):
        bucket.take()
    with pytest.raises(FrameError) as error:
        bucket.take()
    assert error.value.code == "rate_limited"
    clock.now += 1
    bucket.take()


def test_rate_limited_is_said_at_most_once_a_second_other_drops_are_silent():
    clock = Clock()
    bucket = limiter(clock, burst=1, per_second=0.01)
    bucket.take()
    with pytest.raises(FrameError):
        bucket.take()
    with pytest.raises(FrameRefused) as silent:
        bucket.take()
    assert not isinstance(silent.value, FrameError)
    clock.now += 1
    with pytest.raises(FrameError):
        bucket.take()


def test_more_drops_than_allowed_within_the_window_is_flooding():
    clock = Clock()
    bucket = limiter(clock, burst=1, per_second=0.0001, flood_drops=3)
    bucket.take()
    for _ in range(3):
        with pytest.raises(FrameRefused):
            bucket.take()
    with pytest.raises(Flooding):
        bucket.take()


def test_drops_older_than_the_window_are_forgiven():
    clock = Clock()
    bucket = limiter(clock, burst=1, per_second=0.0001, flood_drops=2, flood_window=5)
    bucket.take()
    for _ in range(2):
        with pytest.raises(FrameRefused):
            bucket.take()
    clock.now += 6
    with pytest.raises(FrameRefused):
        bucket.take()


@pytest.fixture
def no_refill(settings):
    """A bucket that never refills, so that the test does not depend on timing."""
    settings.RATE_LIMIT_PER_SECOND = 0
    return settings


@pytest.mark.parametrize(("path", "kind"), [("/ws/echo/", "echo"), ("/ws/chat/lobby/", "message")])
async def test_frames_over_the_rate_get_rate_limited_and_are_dropped(
    connect, alice, path, kind, no_refill
):
    socket = await connect(path, alice)
    if kind == "message":  # a chat room greets first
        await wait_for_frames(socket, {"type": "welcome"}, {"type": "history"})
    burst = no_refill.RATE_LIMIT_BURST
    for _ in range(burst + 3):
        await socket.send_json_to({"type": kind, "text": "x"})
    # The burst is answered; of the three dropped frames only the first gets an error.
    # (Chat messages come back through the room's group, so the error may come first.)
    answers = [{"type": kind, "text": "x"}] * burst
    await wait_for_frames(socket, *answers, {"type": "error", "code": "rate_limited"})
    assert await quiet(socket)


async def test_a_connection_that_keeps_flooding_is_closed_with_4008(connect, no_refill):
    no_refill.RATE_LIMIT_BURST = 1
    no_refill.RATE_LIMIT_FLOOD_DROPS = 5
    socket = await connect("/ws/echo/")
    for _ in range(1 + 6):
        await socket.send_json_to({"type": "echo", "text": "flood"})
    assert await socket.receive_json_from() == {"type": "echo", "text": "flood"}
    assert (await socket.receive_json_from())["code"] == "rate_limited"
    await assert_closed_with(socket, 4008, "too many frames: slow down, then reconnect")
