"""``/ws/echo/``: open to anyone, echoes text, refuses bad frames with error frames."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


async def test_echo_returns_the_same_text_to_an_anonymous_client(connect):
    socket = await connect("/ws/echo/")
    for text in ["hello", "", "ünïcødé ✓", "<b>not html</b>"]:
        await socket.send_json_to({"type": "echo", "text": text})
        assert await socket.receive_json_from() == {"type": "echo", "text": text}


async def test_unknown_keys_in_a_client_frame_are_ignored(connect):
    socket = await connect("/ws/echo/")
    await socket.send_json_to({"type": "echo", "text": "hi", "extra": [1, 2]})
    assert await socket.receive_json_from() == {"type": "echo", "text": "hi"}


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ('{"type": "echo", "text": "unterminated', "invalid_json"),
        ('["echo", "text"]', "invalid_json"),
        ('"echo"', "invalid_json"),
        ('{"text": "no type"}', "unknown_type"),
        ('{"type": "ping"}', "unknown_type"),
        ('{"type": ["echo"], "text": "x"}', "unknown_type"),
        ('{"type": "echo"}', "invalid_message"),
        ('{"type": "echo", "text": 42}', "invalid_message"),
        ('{"type": "echo", "text": "\\ud800"}', "invalid_message"),
    ],
)
async def test_a_bad_frame_gets_an_error_and_the_connection_stays_open(connect, frame, code):
    socket = await connect("/ws/echo/")
    await socket.send_to(text_data=frame)
    error = await socket.receive_json_from()
    assert error["type"] == "error"
    assert error["code"] == code
    assert error["detail"]
    await socket.send_json_to({"type": "echo", "text": "still here"})
    assert await socket.receive_json_from() == {"type": "echo", "text": "still here"}


async def test_a_binary_frame_is_invalid_json(connect):
    socket = await connect("/ws/echo/")
    await socket.send_to(bytes_data=b'{"type": "echo", "text": "as bytes"}')
    assert (await socket.receive_json_from())["code"] == "invalid_json"


async def test_a_frame_over_the_size_limit_is_too_large(connect, settings):
    socket = await connect("/ws/echo/")
    await socket.send_json_to({"type": "echo", "text": "x" * settings.MAX_FRAME_BYTES})
    assert (await socket.receive_json_from())["code"] == "too_large"
