"""The example job, ``export_room``: a room's whole history as one JSON document."""

import time

from django.conf import settings
from django.utils import timezone

from {{ cookiecutter.project_slug }}.chat import protocol as chat
from {{ cookiecutter.project_slug }}.chat.models import Room
from {{ cookiecutter.project_slug }}.jobs.services import JobError


def export_room(job, report):
    """``(result, output)``: read the room's messages in batches of
    ``JOBS_EXPORT_BATCH_SIZE``, calling ``report(percent)`` after each. It only reads, so
    running it again after a worker died is safe."""
    name = job.params["room"]
    try:
        room = Room.objects.get(name=name)
    except Room.DoesNotExist:
        raise JobError(f"the room {name} no longer exists") from None
    total = room.messages.count()
    limit = settings.JOBS_EXPORT_MAX_MESSAGES
    if total > limit:
        raise JobError(
            f"the room {name} has {total} messages, more than an export holds ({limit}, "
            "JOBS_EXPORT_MAX_MESSAGES)"
        )
    messages = []
    last_id = 0
    while page := list(
        room.messages.select_related("room", "user")
        .filter(id__gt=last_id)
        .order_by("id")[: settings.JOBS_EXPORT_BATCH_SIZE]
    ):
        messages += [chat.message(message) for message in page]
        last_id = page[-1].id
        # 100 is for the job's end: messages posted meanwhile may pass the count (from 0).
        report(min(99, len(messages) * 100 // max(total, 1)))
        if settings.JOBS_EXPORT_BATCH_PAUSE:
            time.sleep(settings.JOBS_EXPORT_BATCH_PAUSE)
    output = {"room": name, "exported_at": timezone.now().isoformat(), "messages": messages}
    return {"room": name, "messages": len(messages)}, output
