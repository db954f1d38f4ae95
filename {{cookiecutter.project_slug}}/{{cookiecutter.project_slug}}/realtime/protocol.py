"""The wire format every WebSocket endpoint shares.

Every frame is one JSON object with a string ``type``. Consumers pass what a client sent
to :func:`decode` and what they send back through :func:`encode`, so the async and the
sync consumers cannot drift apart on the format. Refused frames raise
:class:`FrameError`, which carries the ``error`` frame to send; the connection stays open.
"""

import json
from enum import IntEnum, StrEnum
from urllib.parse import parse_qs

from django.conf import settings

PROTOCOL_VERSION = 1
PONG = {"type": "pong"}


class CloseCode(IntEnum):
    GOING_AWAY = 1001  # the server is stopping (realtime/drain.py): reconnect now
    NOT_AUTHENTICATED = 4001
    FORBIDDEN = 4003
    FLOODING = 4008


# What a close says, for a person reading a raw client (at most 123 bytes). Daphne sends
# the code alone (django/daphne#374); Uvicorn sends both.
CLOSE_REASONS = {
    CloseCode.GOING_AWAY: "server restarting, reconnect",
    CloseCode.NOT_AUTHENTICATED: "not signed in",
    CloseCode.FORBIDDEN: "not a member of this private room",
    CloseCode.FLOODING: "too many frames: slow down, then reconnect",
}


class ErrorCode(StrEnum):
    INVALID_JSON = "invalid_json"
    INVALID_MESSAGE = "invalid_message"
    UNKNOWN_TYPE = "unknown_type"
    TOO_LARGE = "too_large"
    RATE_LIMITED = "rate_limited"


class FrameRefused(Exception):
    """A client frame that the endpoint drops without a word."""


class FrameError(FrameRefused):
    """A client frame that the endpoint refuses with an ``error`` frame."""

    def __init__(self, code, detail):
        super().__init__(detail)
        self.code = code
        self.detail = detail

    @property
    def frame(self):
        return {"type": "error", "code": str(self.code), "detail": self.detail}


def decode(text_data, bytes_data, types):
    """Return the client frame as a dict whose ``type`` is one of ``types``."""
    if text_data is None:
        raise FrameError(ErrorCode.INVALID_JSON, "Binary frames are not accepted; send JSON text.")
    if len(text_data.encode("utf-8", "surrogatepass")) > settings.MAX_FRAME_BYTES:
        raise FrameError(
            ErrorCode.TOO_LARGE, f"Frames may not exceed {settings.MAX_FRAME_BYTES} bytes."
        )
    try:
        frame = json.loads(text_data)
    except (ValueError, RecursionError):
        raise FrameError(ErrorCode.INVALID_JSON, "The frame is not valid JSON.") from None
    if not isinstance(frame, dict):
        raise FrameError(ErrorCode.INVALID_JSON, "The frame must be a JSON object.")
    frame_type = frame.get("type")
    if not isinstance(frame_type, str) or frame_type not in types:
        expected = ", ".join(sorted(types))
        raise FrameError(ErrorCode.UNKNOWN_TYPE, f"The frame's type must be one of: {expected}.")
    return frame


def encode(frame):
    """Serialize a server frame. ASCII escapes keep any client text valid UTF-8 on the wire."""
    return json.dumps(frame, separators=(",", ":"))


def group_event(frame, exclude=None):
    """A channel layer event that consumers forward to their clients as is.

    The frame crosses the layer already encoded, so a frame for a group of a hundred
    connections is serialized once, not a hundred times. ``exclude`` names a channel
    that must not get it (a typing user's own).
    """
    return {"type": "realtime.frame", "text": encode(frame), "exclude": exclude}


def since_from(scope):
    """The ``?since=<id>`` of the connection URL, or None when absent or malformed."""
    values = parse_qs(scope.get("query_string", b"").decode("latin1")).get("since", [])
    value = values[-1] if values else ""
    return int(value) if value.isascii() and value.isdigit() else None


def text_field(frame, key, *, max_length=None, blank=False, required=True):
    """The string at ``frame[key]``, refused when blank (unless allowed) or too long."""
    value = frame.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not is_unicode(value):
        raise FrameError(ErrorCode.INVALID_MESSAGE, f"{key!r} must be a string.")
    if not blank and not value.strip():
        raise FrameError(ErrorCode.INVALID_MESSAGE, f"{key!r} may not be blank.")
    if max_length is not None and len(value) > max_length:
        raise FrameError(
            ErrorCode.INVALID_MESSAGE, f"{key!r} may not exceed {max_length} characters."
        )
    return value


def int_field(frame, key, *, minimum, maximum=None, default=None):
    """The integer at ``frame[key]`` within bounds; ``default`` when absent, if given."""
    value = frame.get(key, default)
    if value is None:
        raise FrameError(ErrorCode.INVALID_MESSAGE, f"{key!r} is required.")
    # bool is an int in Python, not in JSON.
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or value < minimum
        or (maximum is not None and value > maximum)
    ):
        bounds = f"at least {minimum}" if maximum is None else f"from {minimum} to {maximum}"
        raise FrameError(ErrorCode.INVALID_MESSAGE, f"{key!r} must be an integer {bounds}.")
    return value


def is_unicode(value):
    """False for strings with lone surrogates, which JSON allows and UTF-8 does not."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
