from django.urls import path, re_path

from {{ cookiecutter.project_slug }}.chat import api, views
from {{ cookiecutter.project_slug }}.chat.models import ROOM_NAME_PATTERN

app_name = "chat"
urlpatterns = [
    re_path(r"^$", views.index, name="index"),
    re_path(rf"^chat/(?P<room>{ROOM_NAME_PATTERN})/$", views.room, name="room"),
    path("api/rooms/", api.RoomListView.as_view(), name="api-rooms"),
]
