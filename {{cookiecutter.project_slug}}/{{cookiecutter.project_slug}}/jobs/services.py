"""Jobs: made by the API, moved forward by the worker. Plain synchronous ORM code.

Every change of a job is a conditional update, made only if the job is still where the
change starts from, and each change made is pushed to the owner's sockets. So a job that
runs twice (its worker died mid-job, or its message came back while it still ran) never
goes back to ``running`` once it ended, never shows less progress than it did, and ends
``done`` once.
"""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.utils import timezone

from {{ cookiecutter.project_slug }}.chat.models import Room
from {{ cookiecutter.project_slug }}.jobs import protocol
from {{ cookiecutter.project_slug }}.jobs.models import Job

State = Job.State
UNFINISHED = [State.QUEUED, State.RUNNING]


class JobError(Exception):
    """A job cannot go on; the message is what its owner reads."""


def room_to_export(name, user):
    """The room called ``name``, if ``user`` may enter it.

    Raises Room.DoesNotExist, or PermissionDenied for a private room of other users.
    """
    room = Room.objects.get(name=name)
    if room.is_private and not room.members.filter(pk=user.pk).exists():
        raise PermissionDenied(f"{user} is not a member of the private room {name}.")
    return room


def create(owner, kind, params):
    """A new job, queued; the caller hands it to the worker (``jobs/tasks.py``)."""
    return Job.objects.create(owner=owner, kind=kind, params=params)


def push(job):
    """Send the job's frame to every connection of its owner.

    In the worker, which runs no event loop, ``async_to_sync`` runs each call in a loop of
    its own that ends with the call. channels_redis opens its Redis connections per loop
    and (4.3, pinned in requirements/base.txt) closes them as that loop closes; the first
    4.x releases left them open, and the next call in a Celery task logged "Event loop is
    closed" (django/channels_redis#332). The template's live stage runs a real worker and
    checks its log for that line.
    """
    group, event = protocol.owner_event(job)
    async_to_sync(get_channel_layer().group_send)(group, event)


def change(job_id, where, **changes):
    """Apply ``changes`` to the job if it is still ``where`` the change starts from (field
    lookups), then push it. The changed job, or None when it was elsewhere."""
    now = timezone.now()
    if not Job.objects.filter(pk=job_id, **where).update(updated_at=now, **changes):
        return None
    job = Job.objects.get(pk=job_id)
    push(job)
    return job


def start(job_id):
    """A worker took the job: running (again, after a worker died). None if it ended."""
    return change(job_id, {"state__in": UNFINISHED}, state=State.RUNNING, runs=F("runs") + 1)


def report_progress(job, percent):
    """Progress only grows: a run after a dead worker's reports nothing below what the
    dead one reached."""
    return change(job.pk, {"state": State.RUNNING, "progress__lt": percent}, progress=percent)


def finish(job, result, output):
    running = {"state": State.RUNNING}
    return change(job.pk, running, state=State.DONE, progress=100, result=result, output=output)


def fail(job, error):
    return change(job.pk, {"state__in": UNFINISHED}, state=State.FAILED, error=error)
