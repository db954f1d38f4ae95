"""A baked project copied from its clean install into a deployment's folder, in the
production environment its README documents: its ``manage.py``, its users, its database.

The copy is the project as its CI checked it out (tests/support/clean_install.py), run
by the Python that CI installed, against a fresh SQLite file of the deployment's own.
"""

import secrets
import shutil
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing

from tests.support.processes import run, tail
from tests.support.supervisor import ProcessError

# name -> is_staff. The staff user sends notifications.
USERS = {"alice": False, "bob": False, "staff": True}
# A private room, as an admin would make it; bob is not a member.
PRIVATE_ROOM = "private-live"
PRIVATE_MEMBERS = ("alice", "staff")

# One password hash for every user: the production hasher takes most of a second.
CREATE_USERS = f"""
import os
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
password = make_password(os.environ["LIVE_PASSWORD"])
for name, staff in {USERS!r}.items():
    get_user_model().objects.create(username=name, password=password, is_staff=staff)
room = apps.get_model("chat", "Room").objects.create(name={PRIVATE_ROOM!r}, is_private=True)
room.members.set(get_user_model().objects.filter(username__in={PRIVATE_MEMBERS!r}))
"""

# What running the workflow's steps left in the checkout.
LEFT_BY_CI = (".git", "staticfiles", "db.sqlite3*", "__pycache__", ".*_cache", ".hypothesis")


def production_env(**overrides):
    """Only the variables the baked README documents as required in production."""
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "chat.example.com",
    } | overrides


class Project:
    """The project in ``workdir / "project"``; ``env`` is the environment of every
    process of the deployment (one secret key for all of them)."""

    def __init__(self, install, workdir, *, origin, password, extra_env):
        self.source = install.checkout
        self.python = install.python
        self.path = workdir / "project"
        self.database = workdir / "db.sqlite3"
        self.metrics_token = secrets.token_urlsafe(16)
        # The README's production environment, nothing else. The clean install's Python
        # comes first on PATH (see tests/support/clean_install.py).
        self.env = dict(install.env) | production_env(
            DJANGO_ALLOWED_HOSTS="localhost",
            DJANGO_CSRF_TRUSTED_ORIGINS=origin,
            DATABASE_URL=f"sqlite:///{self.database}",
            HOST="127.0.0.1",
            # Its servers count together, apart from the other deployments on this
            # machine, as docs/deployment.md ("Metrics") says to run two.
            PROMETHEUS_MULTIPROC_DIR=str(workdir / "metrics"),
            METRICS_TOKEN=self.metrics_token,
            LIVE_PASSWORD=password,
            **extra_env,
        )

    def copy(self):
        shutil.copytree(self.source, self.path, ignore=shutil.ignore_patterns(*LEFT_BY_CI))

    def manage(self, *args):
        """Run ``manage.py`` in the deployment's environment; fail unless it exits 0."""
        command = [self.python, "manage.py", *args]
        result = run(command, cwd=self.path, env=self.env, check=False)
        if result.returncode != 0:
            raise ProcessError(
                f"`manage.py {args[0]}` exited {result.returncode}:\n{tail(result.output)}"
            )

    def prepare(self):
        """README, "Deployment": ``collectstatic`` and ``migrate``, side by side."""
        with ThreadPoolExecutor(2) as pool:
            steps = [
                pool.submit(self.manage, "collectstatic", "--noinput"),
                pool.submit(self.manage, "migrate", "--noinput"),
            ]
            for step in steps:
                step.result()

    def create_users(self):
        """The users of USERS, and the private room of PRIVATE_MEMBERS."""
        self.manage("shell", "-c", CREATE_USERS)

    def query(self, sql, *parameters):
        """Rows of a read-only query on the deployment's SQLite database."""
        uri = f"file:{self.database}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True, timeout=30)) as db:
            return db.execute(sql, parameters).fetchall()
