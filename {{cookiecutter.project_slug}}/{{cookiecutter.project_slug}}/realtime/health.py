"""``/healthz``: a real round trip through the database and the channel layer."""

import asyncio
import logging

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.http import JsonResponse

from {{ cookiecutter.project_slug }}.realtime import drain

logger = logging.getLogger(__name__)
TIMEOUT = 2


def check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


async def check_channel_layer():
    """Send a message to a fresh channel and read it back."""
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.send(channel, {"type": "health.check"})
    await layer.receive(channel)


async def healthz(request):
    """200 ``{"status": "ok", "database": "ok", "channel_layer": "ok"}``; 503 with the
    failing part set to ``"error"`` (details go to the log, not to the caller). From
    SIGTERM on, 503 ``{"status": "error", "server": "draining"}``, so that the load
    balancer sends new connections elsewhere (``realtime/drain.py``)."""
    if drain.current.draining:
        return JsonResponse({"status": "error", "server": "draining"}, status=503)
    checks = {
        "database": sync_to_async(check_database, thread_sensitive=True),
        "channel_layer": check_channel_layer,
    }
    report = {}
    for part, check in checks.items():
        try:
            async with asyncio.timeout(TIMEOUT):
                await check()
        except Exception:
            logger.exception("Health check of the %s failed", part.replace("_", " "))
            report[part] = "error"
        else:
            report[part] = "ok"
    healthy = all(result == "ok" for result in report.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", **report}, status=200 if healthy else 503
    )
