"""The chat pages. Who may open them is the auth option's rule, ``realtime.auth.page``."""

from django.shortcuts import render

from {{ cookiecutter.project_slug }}.realtime.auth import page


@page
def index(request):
    return render(request, "chat/index.html")


@page
def room(request, room):
    return render(request, "chat/room.html", {"room_name": room})
