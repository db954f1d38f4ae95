from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from {{ cookiecutter.project_slug }}.chat.models import Room
from {{ cookiecutter.project_slug }}.chat.services import broadcast


class Command(BaseCommand):
    help = "Store a system message in a room and send it to everyone in the room."

    def add_arguments(self, parser):
        parser.add_argument("room")
        parser.add_argument("text")

    def handle(self, *args, room, text, **options):
        try:
            target = Room.objects.get(name=room)
        except Room.DoesNotExist:
            raise CommandError(f"No room named {room!r}; rooms open when a user joins.") from None
        limit = settings.CHAT_MESSAGE_MAX_LENGTH
        if not text.strip() or len(text) > limit:
            raise CommandError(f"The text must be 1 to {limit} characters, not blank.")
        message = broadcast(target, text)
        self.stdout.write(f"Sent message {message.id} to room {room}.")
