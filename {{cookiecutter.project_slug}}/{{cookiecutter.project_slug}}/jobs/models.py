import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class Job(models.Model):
    """A piece of background work of one user, run by the Celery worker.

    Its state only moves forward (queued, running, then done or failed) and its progress
    only grows: ``jobs/services.py`` makes every change with a conditional update, so a
    job that runs again after its worker died never goes back, and ends once.
    """

    class Kind(models.TextChoices):
        EXPORT_ROOM = "export_room", "Export a room's history"

    class State(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    params = models.JSONField(default=dict, blank=True, help_text='e.g. {"room": "lobby"}')
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent, 0 to 100.")
    result = models.JSONField(null=True, blank=True, help_text="What a done job tells its owner.")
    error = models.TextField(blank=True, help_text="Why a failed job failed.")
    output = models.JSONField(null=True, blank=True, help_text="What the download returns.")
    runs = models.PositiveSmallIntegerField(
        default=0, help_text="Times a worker started it: more than one after a worker died."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.kind} {self.id} ({self.state})"
