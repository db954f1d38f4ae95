"""A WebSocket test written with channels' ``WebsocketCommunicator`` alone: what the
``connect`` fixture does for every other test, spelled out once."""


async def test_a_communicator_drives_the_whole_application_without_a_server():
    raise NotImplementedError(
        "Exercise 5: open /ws/echo/ with a WebsocketCommunicator, send an echo frame and "
        "assert on the reply; see docs/workshop.md#exercise-5"
    )
