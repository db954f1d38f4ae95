"""Frames of the echo endpoint."""

from {{ cookiecutter.project_slug }}.realtime.protocol import text_field


def reply(frame):
    """``{"type": "echo", "text": ...}`` back with the same text."""
    return {"type": "echo", "text": text_field(frame, "text", blank=True)}
