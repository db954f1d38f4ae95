"""The chat pages. Who may open them is the auth option's rule, ``realtime.auth.page``."""

from django.conf import settings
from django.shortcuts import render

from {{ cookiecutter.project_slug }}.realtime.auth import page


@page
def index(request):
    return render(request, "chat/index.html")


@page
def room(request, room):
    # The page's script keeps to the limits that the server enforces.
    limits = {
        "max_length": settings.CHAT_MESSAGE_MAX_LENGTH,
        "rate_burst": settings.RATE_LIMIT_BURST,
        "rate_per_second": settings.RATE_LIMIT_PER_SECOND,
    }
    return render(request, "chat/room.html", {"room_name": room, "limits": limits})
