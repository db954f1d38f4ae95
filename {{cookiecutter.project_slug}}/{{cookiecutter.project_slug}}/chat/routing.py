from django.urls import re_path

from {{ cookiecutter.project_slug }}.chat.consumers import ChatConsumer
from {{ cookiecutter.project_slug }}.chat.models import ROOM_NAME_PATTERN

websocket_urlpatterns = [
    re_path(rf"^ws/chat/(?P<room>{ROOM_NAME_PATTERN})/$", ChatConsumer.as_asgi()),
]
