"""The Celery app: the worker is ``celery -A config worker`` (README.md, docs/jobs.md).

It reads every ``CELERY_*`` Django setting (config/settings/base.py) and finds the
``tasks.py`` module of each installed app.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("{{ cookiecutter.project_slug }}")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
