{%- if cookiecutter.auth == "session" -%}
"""The chat pages. Both need a signed-in user: the socket authenticates by session cookie."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def index(request):
    return render(request, "chat/index.html")


@login_required
def room(request, room):
    return render(request, "chat/room.html", {"room_name": room})
{%- else -%}
"""The chat pages. They are public: their script asks for credentials and gets a token
from ``/api/token/``, which it presents to the socket (see ``static/chat/auth.js``)."""

from django.shortcuts import render


def index(request):
    return render(request, "chat/index.html")


def room(request, room):
    return render(request, "chat/room.html", {"room_name": room})
{%- endif %}
