"""``manage.py broadcast``: system messages from outside a consumer."""

import pytest
from asgiref.sync import sync_to_async
from django.core.management import CommandError, call_command

from {{ cookiecutter.project_slug }}.chat.models import Message, Room

from tests.conftest import join, wait_for_frame

pytestmark = pytest.mark.django_db(transaction=True)


async def test_broadcast_stores_a_system_message_and_sends_it_to_the_room(connect, alice):
    socket, *_ = await join(connect, alice)
    await sync_to_async(call_command)("broadcast", "lobby", "maintenance at noon")
    frame = await wait_for_frame(socket, type="message")
    assert (frame["user"], frame["text"]) == (None, "maintenance at noon")
    assert (await Message.objects.aget(id=frame["id"])).user_id is None


def test_broadcast_refuses_an_unknown_room(db):
    with pytest.raises(CommandError, match="No room named 'nowhere'"):
        call_command("broadcast", "nowhere", "hi")


def test_broadcast_refuses_blank_text(db):
    Room.objects.create(name="lobby")
    with pytest.raises(CommandError, match="not blank"):
        call_command("broadcast", "lobby", "  ")
