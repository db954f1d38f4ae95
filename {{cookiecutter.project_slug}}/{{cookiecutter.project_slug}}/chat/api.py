"""``GET /api/rooms/``: the rooms a user may enter, for the room list of ``/``."""

from asgiref.sync import async_to_sync
from django.conf import settings
from rest_framework.response import Response
from rest_framework.views import APIView

from {{ cookiecutter.project_slug }}.chat import protocol as chat
from {{ cookiecutter.project_slug }}.chat import services
from {{ cookiecutter.project_slug }}.realtime import presence


class RoomListView(APIView):
    """The rooms the user may enter, most recently active first, at most
    ``CHAT_ROOM_LIST_LENGTH``, each with how many users are in it now."""

    def get(self, request):
        rooms = services.rooms_for(request.user, settings.CHAT_ROOM_LIST_LENGTH)
        counts = async_to_sync(presence.counts)([room.name for room in rooms])
        return Response([chat.room_summary(room, counts[room.name]) for room in rooms])
