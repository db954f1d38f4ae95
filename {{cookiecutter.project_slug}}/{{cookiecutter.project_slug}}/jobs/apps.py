from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "{{ cookiecutter.project_slug }}.jobs"

    def ready(self):
        from {{ cookiecutter.project_slug }}.jobs.metrics import JobStates
        from {{ cookiecutter.project_slug }}.realtime import metrics

        metrics.add_collector(JobStates())
