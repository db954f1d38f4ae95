from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "{{ cookiecutter.project_slug }}.notifications"
