"""Settings shared by every environment.

This module is the only place that reads the environment (12-factor). Environment
variables win over the git-ignored ``.env`` file at the project root, which holds local
values such as the secret key the template generated for this project. Production
settings ignore ``.env``: there, only the real environment counts.
"""

from pathlib import Path

import environ
{%- if cookiecutter.channel_layer == "redis" %}
from redis.exceptions import ConnectionError as RedisConnectionError
{%- endif %}

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
if env("DJANGO_SETTINGS_MODULE", default="") != "config.settings.production":
    env.read_env(BASE_DIR / ".env")

PROJECT_NAME = {{ cookiecutter.project_name | tojson }}

DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
{%- if cookiecutter.server == "daphne" %}
    # First, so that runserver serves WebSockets through Daphne.
    "daphne",
{%- endif %}
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
{%- if cookiecutter.auth == "token" %}
    "rest_framework.authtoken",
{%- endif %}
    "{{ cookiecutter.project_slug }}.chat",
    "{{ cookiecutter.project_slug }}.notifications",
{%- if cookiecutter.tasks == "celery" %}
    "{{ cookiecutter.project_slug }}.jobs",
{%- endif %}
{%- if cookiecutter.workshop == "exercises" %}
    "{{ cookiecutter.project_slug }}.workshop",
{%- endif %}
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "{{ cookiecutter.project_slug }}.chat.context_processors.site",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite as a server's database (docs/performance.md): write-ahead logging, commits
    # synced at checkpoints only, the write lock taken when a transaction begins (no
    # "database is locked" halfway through), and the connection kept open, since closing
    # the last one checkpoints the log. Django advises against persistent connections under
    # ASGI for database servers, whose connections are scarce; an SQLite connection is an
    # open file. PostgreSQL keeps Django's defaults.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        transaction_mode="IMMEDIATE",
    )
    DATABASES["default"] |= {"CONN_MAX_AGE": None, "CONN_HEALTH_CHECKS": True}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]
{%- if cookiecutter.auth == "session" %}
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "chat:index"
LOGOUT_REDIRECT_URL = "login"
{%- endif %}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
{%- if cookiecutter.auth == "session" %}
        "rest_framework.authentication.SessionAuthentication",
{%- elif cookiecutter.auth == "token" %}
        "rest_framework.authentication.TokenAuthentication",
{%- endif %}
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}

# Channel layer: how consumers in one or many processes reach each other. capacity bounds
# what a channel that nobody reads (a stalled client) can hold; expiry drops what waits
# longer than that many seconds.
CHANNEL_LAYER_CAPACITY = env.int("CHANNEL_LAYER_CAPACITY", default=100)
CHANNEL_LAYER_EXPIRY = env.int("CHANNEL_LAYER_EXPIRY", default=60)
{%- if cookiecutter.channel_layer == "redis" %}
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
# High availability (docs/deployment.md): with REDIS_SENTINELS ("host:port,host:port"), the
# channel layer and presence ask Redis Sentinel which server is the master named
# REDIS_SENTINEL_MASTER, and ask again after a failover; REDIS_URL is not used then.
REDIS_SENTINELS = [
    (host, int(port))
    for host, port in (
        address.rsplit(":", 1) for address in env.list("REDIS_SENTINELS", default=[])
    )
]
REDIS_SENTINEL_MASTER = env("REDIS_SENTINEL_MASTER") if REDIS_SENTINELS else None
# A sentinel that does not answer within 2 s is passed over for the next one.
REDIS_SENTINEL_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 2}
REDIS_SERVER = (
    {
        "sentinels": REDIS_SENTINELS,
        "master_name": REDIS_SENTINEL_MASTER,
        "sentinel_kwargs": REDIS_SENTINEL_OPTIONS,
    }
    if REDIS_SENTINELS
    else {"address": REDIS_URL}
)
REDIS_LAYER_OPTIONS = {
    # channels_redis waits up to 5 s for messages in one blocking read; redis-py 8 would
    # give up on any read after 5 s.
    "socket_timeout": 15,
    # Sockets closing together each leave their groups at once; redis-py refuses a 101st
    # connection by default.
    "max_connections": env.int("REDIS_MAX_CONNECTIONS", default=1000),
    # After Redis restarts or fails over, every pooled connection is dead: a command that
    # finds its connection closed reconnects (to the new master) and runs once more.
    "retry_on_error": [RedisConnectionError],
}
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [REDIS_SERVER | REDIS_LAYER_OPTIONS],
            "capacity": CHANNEL_LAYER_CAPACITY,
            "expiry": CHANNEL_LAYER_EXPIRY,
        },
    },
}
{%- elif cookiecutter.channel_layer == "in_memory" %}
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels.layers.InMemoryChannelLayer",
        "CONFIG": {
            "capacity": CHANNEL_LAYER_CAPACITY,
            "expiry": CHANNEL_LAYER_EXPIRY,
        },
    },
}
{%- endif %}

# The realtime protocol's limits (see docs/protocol.md).
MAX_FRAME_BYTES = env.int("MAX_FRAME_BYTES", default=8192)
{%- if cookiecutter.server == "daphne" %}
# The server drops bigger messages before they reach Python (the client sees 1006). Read by
# `manage.py runserver`; production passes the same value to daphne on its command line.
DAPHNE_WEBSOCKET_MAX_MESSAGE_SIZE = DAPHNE_WEBSOCKET_MAX_FRAME_SIZE = {{ cookiecutter._ws_max_message_bytes }}
{%- endif %}
# Per connection: a bucket of RATE_LIMIT_BURST frames refilled at RATE_LIMIT_PER_SECOND;
# more than RATE_LIMIT_FLOOD_DROPS frames dropped within RATE_LIMIT_FLOOD_WINDOW seconds
# closes the connection with 4008.
RATE_LIMIT_BURST = env.int("RATE_LIMIT_BURST", default=20)
RATE_LIMIT_PER_SECOND = env.float("RATE_LIMIT_PER_SECOND", default=10)
RATE_LIMIT_FLOOD_DROPS = env.int("RATE_LIMIT_FLOOD_DROPS", default=50)
RATE_LIMIT_FLOOD_WINDOW = env.float("RATE_LIMIT_FLOOD_WINDOW", default=10)
# A connection silent this many seconds drops out of its room's members.
PRESENCE_TTL = env.float("PRESENCE_TTL", default=60)
{%- if cookiecutter.channel_layer == "redis" %}
PRESENCE_REDIS_CONNECTIONS = env.int("PRESENCE_REDIS_CONNECTIONS", default=50)
{%- endif %}
# What a connection gets first: the last CHAT_HISTORY_LENGTH messages, or at most
# CHAT_SINCE_LIMIT after ?since=; a history request gets CHAT_HISTORY_PAGE_SIZE older
# ones, or as many as it asks for up to CHAT_HISTORY_PAGE_MAX. The same for notifications.
CHAT_HISTORY_LENGTH = 50
CHAT_SINCE_LIMIT = 500
CHAT_HISTORY_PAGE_SIZE = 50
CHAT_HISTORY_PAGE_MAX = 100
CHAT_MESSAGE_MAX_LENGTH = 2000
# The rooms GET /api/rooms/ lists, and the page of / shows, at most.
CHAT_ROOM_LIST_LENGTH = 100
NOTIFICATIONS_HISTORY_LENGTH = 50
NOTIFICATIONS_SINCE_LIMIT = 500
NOTIFICATIONS_TEXT_MAX_LENGTH = 2000

{%- if cookiecutter.tasks == "celery" %}

# Background jobs (docs/jobs.md): Celery, with Redis as its broker. A job's message is
# acknowledged when the job has ended, and handed out again when its worker dies first,
# so that the job runs again (jobs/tasks.py says what that asks of a job).
# With REDIS_SENTINELS, the broker is the master the same sentinels name (kombu's
# sentinel:// URLs, with master_name in the transport options below).
CELERY_BROKER_URL = env(
    "CELERY_BROKER_URL",
    default=";".join(f"sentinel://{host}:{port}" for host, port in REDIS_SENTINELS) or REDIS_URL,
)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # a worker holds no more jobs than it runs
# When the broker goes away, a running job could not be acknowledged and will be handed
# out again: stop it rather than run it twice (Celery 6's default; 5.7 warns without it).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # A job whose whole worker vanished (kill -9, a lost machine) is handed out again
    # after this many seconds: keep it above the longest job, or a slow job runs twice.
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    # A running worker looks for such jobs every 10 s (unacked_restore_interval), and at
    # its start; kombu's default throttle (10) looks only every tenth time, 100 s late.
    "unacked_restore_throttle": 1,
    # POST /api/jobs/ answers 503 within seconds when the broker cannot be reached.
    "socket_connect_timeout": 3,
}
if REDIS_SENTINELS:
    CELERY_BROKER_TRANSPORT_OPTIONS |= {
        "master_name": REDIS_SENTINEL_MASTER,
        "sentinel_kwargs": REDIS_SENTINEL_OPTIONS,
    }
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # LOGGING below prints the worker's lines too
# The export job reads JOBS_EXPORT_BATCH_SIZE messages at a time (pausing
# JOBS_EXPORT_BATCH_PAUSE seconds between batches, to spare a busy database) and refuses
# rooms of more than JOBS_EXPORT_MAX_MESSAGES.
JOBS_EXPORT_BATCH_SIZE = env.int("JOBS_EXPORT_BATCH_SIZE", default=500)
JOBS_EXPORT_BATCH_PAUSE = env.float("JOBS_EXPORT_BATCH_PAUSE", default=0)
JOBS_EXPORT_MAX_MESSAGES = env.int("JOBS_EXPORT_MAX_MESSAGES", default=100_000)
{%- endif %}

# /metrics (docs/deployment.md, "Metrics"): scrapers at private and loopback addresses may
# read it, and anyone who sends "Authorization: Bearer <METRICS_TOKEN>"; empty: nobody else.
METRICS_TOKEN = env("METRICS_TOKEN", default="")

# Every line once, through the root logger's console handler: Django's own "django" logger
# would print what it is given a second time (under DEBUG), then pass it on to the root.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {"django": {"handlers": [], "propagate": True}},
}
