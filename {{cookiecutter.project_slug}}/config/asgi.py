"""ASGI entry point: HTTP goes to Django (``/metrics`` is answered before it), WebSockets
through origin and auth checks.

README.md lists the commands that serve it.
"""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
# Django must be set up before anything imports models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from {{ cookiecutter.project_slug }}.realtime.auth import websocket_security  # noqa: E402
from {{ cookiecutter.project_slug }}.realtime.metrics import with_metrics  # noqa: E402
from {{ cookiecutter.project_slug }}.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": with_metrics(django_asgi_app),
        "websocket": websocket_security(URLRouter(websocket_urlpatterns)),
    }
)

# What is loaded by now lives as long as the process: frozen, it stays out of the garbage
# collector's full passes, whose pauses set the latency's 99th percentile under load.
gc.freeze()
