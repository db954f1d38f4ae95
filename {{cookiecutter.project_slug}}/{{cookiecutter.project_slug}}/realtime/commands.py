"""What the management commands that send text (``broadcast``, ``notify``) share."""

from django.core.management.base import CommandError


def checked_text(text, max_length):
    """``text`` from the command line, or a CommandError when it is blank or too long:
    the rule the protocol applies to a message from a socket."""
    if not text.strip() or len(text) > max_length:
        raise CommandError(f"The text must be 1 to {max_length} characters, not blank.")
    return text
