"""A WebSocket test written with channels' ``WebsocketCommunicator`` alone: what the
``connect`` fixture does for every other test, spelled out once."""

import pytest
from channels.testing import WebsocketCommunicator

from config.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_communicator_drives_the_whole_application_without_a_server():
    # The full ASGI application, origin check and routing included: a browser on one of
    # our pages sends its Origin, which the test settings allow.
    communicator = WebsocketCommunicator(
        application, "/ws/echo/", headers=[(b"origin", b"http://testserver")]
    )
    connected, _ = await communicator.connect()
    assert connected
    await communicator.send_json_to({"type": "echo", "text": "by hand"})
    assert await communicator.receive_json_from(timeout=10) == {"type": "echo", "text": "by hand"}
    await communicator.disconnect()
