from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

ROOM_NAME_PATTERN = r"[A-Za-z0-9_-]{1,64}"


class Room(models.Model):
    """A chat room. Public rooms open on first connect; private ones are made in the admin."""

    name = models.CharField(
        max_length=64, unique=True, validators=[RegexValidator(rf"\A{ROOM_NAME_PATTERN}\Z")]
    )
    is_private = models.BooleanField(
        default=False, help_text="Only the members may connect to a private room."
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="chat_rooms"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.name


class Message(models.Model):
    """A stored chat message. Ids grow with time within a room: clients resume by id."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        help_text="Empty for a system message.",
    )
    text = models.TextField()
    # NULL, not "", when the client sent none: NULLs never collide in the unique constraint.
    client_id = models.CharField(  # noqa: DJ001
        max_length=64,
        null=True,
        blank=True,
        help_text="The sender's id for the message; a resend with that id is not stored again.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    delivered = models.BooleanField(
        default=True,
        help_text="Sent to the room. A message stored by a process that died before "
        "sending it is not, until its sender reconnects or resends it.",
    )

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["room", "id"])]
        constraints = [
            models.UniqueConstraint(
                fields=["room", "user", "client_id"], name="chat_message_unique_client_id"
            )
        ]

    def __str__(self):
        return f"{self.room}#{self.pk}"
