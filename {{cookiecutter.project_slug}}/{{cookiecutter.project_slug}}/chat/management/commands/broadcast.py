from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from {{ cookiecutter.project_slug }}.chat.models import Room
from {{ cookiecutter.project_slug }}.chat.services import broadcast
from {{ cookiecutter.project_slug }}.realtime.commands import checked_text


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
        message = broadcast(target, checked_text(text, settings.CHAT_MESSAGE_MAX_LENGTH))
        self.stdout.write(f"Sent message {message.id} to room {room}.")
