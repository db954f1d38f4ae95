from django.urls import re_path

from {{ cookiecutter.project_slug }}.chat import views
from {{ cookiecutter.project_slug }}.chat.models import ROOM_NAME_PATTERN

app_name = "chat"
urlpatterns = [
    re_path(r"^$", views.index, name="index"),
    re_path(rf"^chat/(?P<room>{ROOM_NAME_PATTERN})/$", views.room, name="room"),
]
