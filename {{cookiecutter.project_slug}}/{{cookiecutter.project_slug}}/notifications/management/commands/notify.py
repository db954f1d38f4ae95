from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from {{ cookiecutter.project_slug }}.notifications.services import send_notification
from {{ cookiecutter.project_slug }}.realtime.commands import checked_text


class Command(BaseCommand):
    help = "Store a notification for a user and push it to their open connections."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("text")

    def handle(self, *args, username, text, **options):
        text = checked_text(text, settings.NOTIFICATIONS_TEXT_MAX_LENGTH)
        User = get_user_model()
        try:
            user = User.objects.get_by_natural_key(username)
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        notification = send_notification(user, text)
        self.stdout.write(f"Sent notification {notification.id} to {username}.")
