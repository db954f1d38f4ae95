"""Settings for the test suite: fast, isolated, no secrets needed."""

from .base import *  # noqa: F403
{%- if cookiecutter.channel_layer == "redis" %}
from .base import CHANNEL_LAYERS, REDIS_LAYER_OPTIONS, REDIS_URL, env
{%- endif %}

SECRET_KEY = "test-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
{%- if cookiecutter.channel_layer == "redis" %}

# A Redis database of the tests' own (by default database 1 of REDIS_URL's server): they
# empty it after every test, and a development server's rooms live in another one.
REDIS_URL = env("REDIS_TEST_URL", default=REDIS_URL.rsplit("/", 1)[0] + "/1")
REDIS_SENTINELS = []  # no failover in the tests: their own database, at REDIS_URL
CHANNEL_LAYERS["default"]["CONFIG"]["hosts"] = [{"address": REDIS_URL} | REDIS_LAYER_OPTIONS]
{%- endif %}
{%- if cookiecutter.tasks == "celery" %}
CELERY_BROKER_URL = REDIS_URL
{%- endif %}
