"""``GET /api/rooms/``: the rooms a user may enter, most recently active first, with how
many users are in each now."""

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from {{ cookiecutter.project_slug }}.chat import services
from {{ cookiecutter.project_slug }}.chat.models import Message, Room

from tests.clients import authenticate_http
from tests.conftest import join

pytestmark = pytest.mark.django_db(transaction=True)
URL = "/api/rooms/"


def rooms_of(client, user):
    authenticate_http(client, user)
    response = client.get(URL)
    assert response.status_code == 200, response.content
    return response.json()


def talk(room_name, user, minutes_ago):
    room = services.open_room(room_name, user)
    message, _ = services.post_message(room, user, "hello")
    Message.objects.filter(pk=message.pk).update(
        created_at=timezone.now() - timedelta(minutes=minutes_ago)
    )


def test_public_rooms_and_the_users_private_ones_most_recently_active_first(client, alice, bob):
    Room.objects.create(name="quiet")
    talk("older", bob, minutes_ago=30)
    talk("newer", bob, minutes_ago=1)
    Room.objects.create(name="staff", is_private=True).members.add(alice)
    Room.objects.create(name="board", is_private=True).members.add(bob)
    listed = rooms_of(client, alice)
    assert [room["name"] for room in listed] == ["newer", "older", "quiet", "staff"]
    assert listed[0]["last_message_at"] is not None
    assert (listed[2]["last_message_at"], listed[3]["is_private"]) == (None, True)


async def test_members_counts_each_user_in_the_room_now_once(connect, client, alice, bob):
    await join(connect, alice)
    await join(connect, bob)
    await join(connect, bob)  # a second tab
    listed = await sync_to_async(rooms_of)(client, alice)
    assert [(room["name"], room["members"]) for room in listed] == [("lobby", 2)]


def test_the_list_is_for_signed_in_users_only(client):
    assert client.get(URL).status_code in (401, 403)
