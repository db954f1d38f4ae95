"""Per-connection rate limit: a token bucket, with a cut-off for clients that keep flooding."""

import time
from collections import deque

from django.conf import settings

from {{ cookiecutter.project_slug }}.realtime.protocol import ErrorCode, FrameError, FrameRefused


class Flooding(Exception):
    """The client kept flooding after ``rate_limited`` errors: close with 4008."""


class RateLimiter:
    """A bucket of ``burst`` frames, refilled at ``per_second``, one per frame taken.

    A frame over the rate is dropped. Its sender hears ``rate_limited`` at most once per
    second; the other drops are silent, so that the errors cannot flood the sender back.
    More than ``flood_drops`` drops inside ``flood_window`` seconds is :class:`Flooding`.
    ``dropped()`` is called for every frame dropped (the metrics count them).
    """

    def __init__(
        self,
        *,
        burst,
        per_second,
        flood_drops,
        flood_window,
        clock=time.monotonic,
        dropped=lambda: None,
    ):
        self.burst = burst
        self.per_second = per_second
        self.flood_drops = flood_drops
        self.flood_window = flood_window
        self.clock = clock
        self.dropped = dropped
        self.tokens = burst
        self.refilled_at = clock()
        self.drops = deque()
        self.warned_at = None

    @classmethod
    def from_settings(cls, **options):
        return cls(
            burst=settings.RATE_LIMIT_BURST,
            per_second=settings.RATE_LIMIT_PER_SECOND,
            flood_drops=settings.RATE_LIMIT_FLOOD_DROPS,
            flood_window=settings.RATE_LIMIT_FLOOD_WINDOW,
            **options,
        )

    def take(self):
        """Count one frame; raise unless it is within the rate."""
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.refilled_at) * self.per_second)
        self.refilled_at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return
        self.drops.append(now)
        self.dropped()
        while self.drops[0] <= now - self.flood_window:
            self.drops.popleft()
        if len(self.drops) > self.flood_drops:
            raise Flooding
        if self.warned_at is None or now - self.warned_at >= 1:
            self.warned_at = now
            raise FrameError(ErrorCode.RATE_LIMITED, "Too many frames; this one was dropped.")
        raise FrameRefused
