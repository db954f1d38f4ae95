"""Settings for working on your machine: DEBUG on, SQLite, everything on localhost."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# Required even locally; the template wrote a fresh one into .env.
SECRET_KEY = env("DJANGO_SECRET_KEY")

# Serve static files straight from the apps' folders, picking up edits: no collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
