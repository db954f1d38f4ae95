"""The ``job`` frame: a job's state as its owner's ``/ws/notifications/`` sockets and
``GET /api/jobs/<id>/`` show it (docs/protocol.md, "Background jobs")."""

from {{ cookiecutter.project_slug }}.notifications import protocol as notifications
from {{ cookiecutter.project_slug }}.realtime.protocol import group_event


def job(stored):
    return {
        "type": "job",
        "id": str(stored.id),
        "kind": stored.kind,
        "state": stored.state,
        "progress": stored.progress,
        "result": stored.result,
        "error": stored.error or None,
        "updated": stored.updated_at.isoformat(),
    }


def owner_event(stored):
    """``(group, event)``: the job's frame for every connection of its owner."""
    return notifications.group_name(stored.owner_id), group_event(job(stored))
