from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "{{ cookiecutter.project_slug }}.jobs"
