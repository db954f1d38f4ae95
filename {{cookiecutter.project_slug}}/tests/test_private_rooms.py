"""Private rooms admit their members only; anyone may open a public room."""

import pytest
from channels.db import database_sync_to_async

from {{ cookiecutter.project_slug }}.chat.models import Message, Room

from tests.conftest import assert_closed_with

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def private_room(name, *members):
    room = Room.objects.create(name=name, is_private=True)
    room.members.set(members)
    return room


async def test_a_non_member_is_closed_with_4003_before_any_frame(connect, alice, bob):
    await private_room("staff", alice)
    socket = await connect("/ws/chat/staff/", bob)
    await assert_closed_with(socket, 4003, "not a member of this private room")


async def test_frames_sent_after_the_refusal_are_ignored(connect, bob):
    await private_room("staff")
    socket = await connect("/ws/chat/staff/", bob)
    await socket.send_json_to({"type": "message", "text": "let me in"})
    await assert_closed_with(socket, 4003)
    assert await socket.receive_nothing()
    assert await Message.objects.acount() == 0


async def test_a_member_gets_in(connect, alice):
    await private_room("staff", alice)
    socket = await connect("/ws/chat/staff/", alice)
    assert (await socket.receive_json_from())["type"] == "welcome"
