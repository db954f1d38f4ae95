"""A baked project deployed for real on this machine, for the stages live, faults, jobs, browser.

The project runs as its README documents for production: ``collectstatic`` and
``migrate`` against a fresh SQLite file, then its own start command ``deploy/serve.sh``
(one process, or two sharing Redis with the redis layer) on loopback ports, behind a real
nginx that runs the project's ``deploy/nginx.conf`` with a throw-away certificate. With
``tasks=celery`` the README's worker command runs beside them, with a ``redis-server`` of
its own as the broker (tests/support/worker.py). The clients are ``http.client`` and the
``websockets`` library, as an outside user's would be.

Every process writes its output to a log file in the deployment's folder; failures show
the tails. :class:`Deployments` keeps the deployments of one test session and stops each
process (terminate, wait, kill) when it is done with it.
"""

import asyncio
import glob
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager, suppress
from functools import cache
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest
from websockets.asyncio.client import connect

from tests.support import nginx
from tests.support.nginx import has_ipv6_loopback
from tests.support.processes import require, run, tail
from tests.support.redis_server import RedisServer, flush_redis
from tests.support.worker import DEPLOYMENT_ENV, READY, RUN_WORKER, WORKER_ENV

# Bounds, not delays: generous, as a busy 2-core machine is slow to hash a password.
START_TIMEOUT = 60  # seconds for a server or nginx to become ready
STOP_TIMEOUT = 10  # seconds a process gets to exit after SIGTERM, then SIGKILL
POLL_INTERVAL = 0.05
ATTEMPT_TIMEOUT = 5  # socket timeout of one readiness probe (refusals are instant)
HTTP_TIMEOUT = 60  # socket timeout of an HTTP request (a login hashes a password)
OPEN_TIMEOUT = 30  # WebSocket handshake
FRAME_TIMEOUT = 30  # waiting for one expected frame
SCENARIO_TIMEOUT = 180  # seconds for one test's whole conversation

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


def production_env(**overrides):
    """Only the variables the baked README documents as required in production."""
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "chat.example.com",
    } | overrides


class DeploymentError(Exception):
    """The deployment did not come up; the message has the logs' tails."""


class SignInError(DeploymentError):
    """A user could not sign in (log in, or get a token)."""


@cache
def insecure_tls():
    """A client context that accepts the throw-away self-signed certificate."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def free_ports(count):
    """``count`` distinct ports free on 127.0.0.1 (and on ::1 where there is one)."""
    held, ports = [], []
    try:
        while len(ports) < count:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            held.append(sock)
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
            if has_ipv6_loopback():
                six = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
                held.append(six)
                try:
                    six.bind(("::1", port))
                except OSError:
                    continue
            ports.append(port)
    finally:
        for sock in held:
            sock.close()
    return ports


# --- processes ----------------------------------------------------------------------


class Process:
    """A started program whose output goes to a log file.

    With ``group`` it leads a process group of its own, so that :meth:`kill` ends its
    children with it (the Celery worker's pool processes), as a crash of its machine would.
    """

    def __init__(self, name, command, *, log, cwd=None, env=None, group=False):
        self.name = name
        self.log = log
        self.group = group
        self.terminated = False
        with open(log, "wb") as output:
            self.popen = subprocess.Popen(
                [str(part) for part in command],
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                process_group=0 if group else None,
            )

    def alive(self):
        return self.popen.poll() is None

    def terminate(self):
        """Ask the process to stop (SIGTERM), once."""
        if not self.terminated and self.popen.poll() is None:
            self.popen.terminate()
        self.terminated = True

    def stop(self):
        """Terminate, wait, kill: the process (and its group) is gone when this returns."""
        self.terminate()
        try:
            self.popen.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
        if self.group:  # what its children left, if it did not end them
            self.kill()

    def kill(self):
        """``kill -9``: the process, or its whole group; returns once they are gone."""
        self.terminated = True
        if not self.group:
            self.popen.kill()
            self.popen.wait(timeout=STOP_TIMEOUT)
            return
        pgid = self.popen.pid
        with suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        self.popen.wait(timeout=STOP_TIMEOUT)
        # The children are init's now: wait until it reaped them.
        deadline = time.monotonic() + STOP_TIMEOUT
        while group_alive(pgid):
            if time.monotonic() > deadline:
                raise DeploymentError(f"{self.name}: process group {pgid} outlived kill -9")
            time.sleep(POLL_INTERVAL)

    def output(self):
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def group_alive(pgid):
    """Whether any process of group ``pgid`` is still running (zombies aside)."""
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat) as file:
                fields = file.read().rpartition(")")[2].split()
        except OSError:  # it ended meanwhile
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def wait_until(ready, process, what, timeout=START_TIMEOUT):
    """Poll ``ready()`` until it is true; fail early if ``process`` exits."""
    deadline = time.monotonic() + timeout
    while True:
        if not process.alive():
            raise DeploymentError(
                f"{process.name} exited with {process.popen.returncode} before {what}; "
                f"its output:\n{tail(process.output())}"
            )
        if ready():
            return
        if time.monotonic() > deadline:
            raise DeploymentError(
                f"{process.name}: not {what} within {timeout} s; its output:\n"
                f"{tail(process.output())}"
            )
        time.sleep(POLL_INTERVAL)


def accepting(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=ATTEMPT_TIMEOUT).close()
    except OSError:
        return False
    return True


def healthy(port):
    try:
        response = request(port, "GET", "/healthz", timeout=ATTEMPT_TIMEOUT)
    except (OSError, http.client.HTTPException):
        return False
    return response.status == 200


# --- HTTP -----------------------------------------------------------------------------


class Response:
    def __init__(self, response):
        self.status = response.status
        self.headers = response.headers
        self.body = response.read()

    @property
    def text(self):
        return self.body.decode(errors="replace")

    def json(self):
        return json.loads(self.body)

    def cookies(self):
        """name -> value of every cookie this response sets."""
        jar = SimpleCookie()
        for header in self.headers.get_all("Set-Cookie") or []:
            jar.load(header)
        return {name: morsel.value for name, morsel in jar.items()}

    def __repr__(self):
        return f"<HTTP {self.status} {self.text[:300]!r}>"


def request(port, method, path, *, tls=False, headers=None, body=None, timeout=HTTP_TIMEOUT):
    """One request to 127.0.0.1:``port`` with ``Host: localhost``; no redirects followed."""
    if tls:
        connection = http.client.HTTPSConnection(
            "127.0.0.1", port, timeout=timeout, context=insecure_tls()
        )
    else:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(
            method, path, body=body, headers={"Host": "localhost", **(headers or {})}
        )
        return Response(connection.getresponse())
    finally:
        connection.close()


class Browser:
    """One user agent of the site: keeps its cookies, sends Django's CSRF token."""

    def __init__(self, deployment):
        self.deployment = deployment
        self.cookies = {}

    def request(self, method, path, *, headers=None, body=None, port=None):
        """See :meth:`Deployment.http`; sends and keeps the cookies."""
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = self.deployment.http(method, path, headers=headers, body=body, port=port)
        self.cookies.update(response.cookies())
        return response

    def log_in(self, username, password, *, port=None):
        """Django's LoginView: GET the form for the CSRF cookie and token, POST it."""
        page = self.request("GET", "/accounts/login/", port=port)
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        if page.status != 200 or found is None or "csrftoken" not in self.cookies:
            raise SignInError(f"GET /accounts/login/ gave no CSRF form: {page!r}")
        form = {
            "csrfmiddlewaretoken": found.group(1),
            "username": username,
            "password": password,
        }
        response = self.request(
            "POST",
            "/accounts/login/",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": f"{self.deployment.origin}/accounts/login/",
                "Origin": self.deployment.origin,
            },
            body=urlencode(form),
            port=port,
        )
        if response.status != 302 or "sessionid" not in self.cookies:
            raise SignInError(f"login of {username} failed: {response!r}")
        return self

    def post_json(self, path, payload, *, port=None):
        """A JSON POST with the CSRF header and an HTTPS Referer, as the site's JS sends."""
        headers = {
            "Content-Type": "application/json",
            "X-CSRFToken": self.cookies.get("csrftoken", ""),
            "Referer": f"{self.deployment.origin}/",
        }
        return self.request("POST", path, headers=headers, body=json.dumps(payload), port=port)


# --- the deployment -------------------------------------------------------------------


class Deployment:
    """One baked project served by ``deploy/serve.sh`` behind nginx."""

    def __init__(self, bake, install, workdir, certificate, redis_url=None, *, redis_env=None):
        self.id = bake.id
        self.combination = bake.combination
        self.auth = bake.combination["auth"]
        self.redis_url = redis_url
        # How the servers find Redis: REDIS_URL, or the variables of ``redis_env`` (the
        # sentinels of tests/support/sentinel.py).
        self.redis_env = {"REDIS_URL": redis_url} if redis_url else dict(redis_env or {})
        # The project as its CI checked it out, with the environment it installed.
        self.source = install.checkout
        self.python = install.python
        self.base_env = dict(install.env)
        self.workdir = workdir
        self.project = workdir / "project"
        self.certificate = certificate
        servers = 2 if self.redis_env else 1
        # tasks=celery: the broker is a redis-server of its own, so that a test can stop
        # it alone; the channel layer keeps its Redis. With ``redis_env``, the project
        # finds its broker as its settings say (through the sentinels).
        self.has_worker = self.combination["tasks"] == "celery"
        self.broker = RedisServer(workdir / "broker") if self.has_worker and redis_url else None
        ports = free_ports(2 + servers)
        self.http_port, self.https_port, *self.server_ports = ports
        self.origin = f"https://localhost:{self.https_port}"
        self.password = secrets.token_urlsafe(16)
        self.metrics_token = secrets.token_urlsafe(16)
        self.env = self.environment()
        self.processes = []
        self.servers = []
        self.nginx = None
        self.worker = None  # tasks=celery: the Celery worker, and its broker below
        self.tokens = {}  # auth=token: username -> key
        self.browsers = {}  # auth=session: username -> logged-in Browser
        self.timings = {}

    # -- start and stop

    def environment(self):
        """The production environment of the README, nothing else; one secret key
        for every process of the deployment. The clean install's Python comes first
        on PATH (see tests/support/clean_install.py)."""
        env = self.base_env | production_env(
            DJANGO_ALLOWED_HOSTS="localhost",
            DJANGO_CSRF_TRUSTED_ORIGINS=self.origin,
            DATABASE_URL=f"sqlite:///{self.workdir / 'db.sqlite3'}",
            HOST="127.0.0.1",
            # Its servers count together, apart from the other deployments on this
            # machine, as docs/deployment.md ("Metrics") says to run two.
            PROMETHEUS_MULTIPROC_DIR=str(self.workdir / "metrics"),
            METRICS_TOKEN=self.metrics_token,
        )
        env |= self.redis_env
        if self.broker:
            env["CELERY_BROKER_URL"] = self.broker.url
        if self.has_worker:
            env |= DEPLOYMENT_ENV
        env["LIVE_PASSWORD"] = self.password
        return env

    def start(self):
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self):
        started = time.monotonic()
        shutil.copytree(
            self.source,
            self.project,
            # What running the workflow's steps left in the checkout.
            ignore=shutil.ignore_patterns(
                ".git",
                "staticfiles",
                "db.sqlite3*",
                "__pycache__",
                ".*_cache",
                ".hypothesis",
            ),
        )
        if self.redis_url:
            flush_redis(self.redis_url)
        if self.broker:
            self.broker.directory.mkdir()
            self.broker.start()
        with ThreadPoolExecutor(2) as pool:
            # README, "Deployment": collectstatic and migrate, then deploy/serve.sh.
            prepared = [
                pool.submit(self.manage, "collectstatic", "--noinput"),
                pool.submit(self.manage, "migrate", "--noinput"),
            ]
            for done in prepared:
                done.result()
            self.timings["migrated"] = time.monotonic() - started
            # Users are made while the servers start, as on a live site.
            users = pool.submit(self.manage, "shell", "-c", CREATE_USERS)
            for index in range(len(self.server_ports)):
                self.servers.append(self.spawn_server(index))
            if self.has_worker:
                self.spawn_worker()
            for index in range(len(self.servers)):
                self.wait_healthy(index)
            self.timings["servers up"] = time.monotonic() - started
            if self.has_worker:
                self.wait_worker_ready()
                self.timings["worker up"] = time.monotonic() - started
            users.result()
        self.start_nginx()
        self.timings["nginx up"] = time.monotonic() - started
        # Straight to the servers, with the header nginx adds: test_live.py signs in
        # through nginx too, but a broken proxy should fail that test, not every one.
        ports = [self.server_ports[i % len(self.server_ports)] for i in range(len(USERS))]
        with ThreadPoolExecutor(len(USERS)) as pool:
            if self.auth == "token":
                keys = pool.map(lambda u, p: self.obtain_token(u, port=p), USERS, ports)
                self.tokens = dict(zip(USERS, keys))
            else:
                browsers = pool.map(lambda u, p: self.log_in(u, port=p), USERS, ports)
                self.browsers = dict(zip(USERS, browsers))
        self.timings["ready"] = time.monotonic() - started

    def manage(self, *args):
        """Run ``manage.py`` in the deployment's environment; fail unless it exits 0."""
        result = run(
            [self.python, "manage.py", *args],
            cwd=self.project,
            env=self.env,
            check=False,
        )
        if result.returncode != 0:
            raise DeploymentError(
                f"`manage.py {args[0]}` exited {result.returncode}:\n{tail(result.output)}"
            )

    def spawn_server(self, index, **env):
        """Run ``deploy/serve.sh`` as server ``index`` (A, B, ...) on its port."""
        name = f"server {'AB'[index]}"
        port = str(self.server_ports[index])
        return self.spawn(name, ["deploy/serve.sh"], PORT=port, **env)

    def wait_healthy(self, index):
        port = self.server_ports[index]
        wait_until(lambda: healthy(port), self.servers[index], "healthy (GET /healthz)")

    def kill_server(self, index):
        """``kill -9`` server ``index``, as a crash would; returns once it is gone."""
        server = self.servers[index]
        server.popen.kill()
        server.popen.wait(timeout=STOP_TIMEOUT)
        server.terminated = True

    def terminate_server(self, index):
        """SIGTERM to server ``index``, as a deploy or Kubernetes sends it; returns at once
        (wait on ``servers[index].popen`` for its exit)."""
        server = self.servers[index]
        server.terminate()
        return server.popen

    def restart_server(self, index, **env):
        """Start server ``index`` again on its port (after :meth:`kill_server` or
        :meth:`stop_server`), with ``env`` added to its environment; returns once its
        /healthz answers 200."""
        if self.servers[index].alive():
            raise DeploymentError(f"{self.servers[index].name} is still running")
        self.servers[index] = self.spawn_server(index, **env)
        self.wait_healthy(index)

    def restart_stopped_servers(self):
        """Start every server that is not running: a test that stopped or killed one
        leaves the shared deployment as it found it."""
        for index, server in enumerate(self.servers):
            if not server.alive():
                self.restart_server(index)

    def stop_server(self, index):
        """Stop server ``index`` as a deploy would (SIGTERM, then wait)."""
        self.servers[index].stop()

    def spawn(self, name, command, *, group=False, **env):
        # A restarted process gets a log of its own: the first one may explain a crash.
        starts = sum(process.name == name for process in self.processes)
        suffix = f"-{starts + 1}" if starts else ""
        log = self.workdir / f"{name.replace(' ', '-')}{suffix}.log"
        process = Process(name, command, log=log, cwd=self.project, env=self.env | env, group=group)
        self.processes.append(process)
        return process

    # -- the Celery worker and its broker (tasks=celery, see tests/support/worker.py)

    def spawn_worker(self):
        """The README's worker command, in a process group of its own."""
        self.worker = self.spawn("worker", RUN_WORKER, group=True, **WORKER_ENV)

    def wait_worker_ready(self):
        wait_until(
            lambda: READY.search(self.worker.output()),
            self.worker,
            "ready (its `celery@<host> ready.` line)",
        )

    def kill_worker(self):
        """``kill -9`` the worker's whole process group (main process and pool), as the
        loss of its machine would; returns once every one of them is gone."""
        self.worker.kill()

    def restart_worker(self):
        """Start the worker again; returns once it is ready for jobs."""
        if self.worker.alive():
            raise DeploymentError("the worker is still running")
        self.spawn_worker()
        self.wait_worker_ready()

    def restart_stopped_worker(self):
        """Start the worker again if it is not running: a test that killed it leaves the
        shared deployment as it found it."""
        if self.worker and not self.worker.alive():
            self.restart_worker()

    def worker_logs(self):
        """log path -> text, of every worker started so far."""
        return {p.log: p.output() for p in self.processes if p.name == "worker"}

    def query(self, sql, *parameters):
        """Rows of a read-only query on the deployment's SQLite database."""
        path = self.workdir / "db.sqlite3"
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)) as db:
            return db.execute(sql, parameters).fetchall()

    def start_nginx(self):
        executable = require("nginx")
        workdir = self.workdir / "nginx"
        workdir.mkdir()
        site = (self.project / "deploy" / "nginx.conf").read_text()
        config = nginx.live_config(
            site,
            workdir,
            self.certificate,
            [f"127.0.0.1:{port}" for port in self.server_ports],
            self.http_port,
            self.https_port,
        )
        self.nginx = Process(
            "nginx",
            [executable, "-p", workdir, "-e", workdir / "error.log", "-c", config]
            + ["-g", "daemon off;"],
            log=workdir / "nginx.log",
        )
        self.processes.append(self.nginx)
        for port in (self.http_port, self.https_port):
            wait_until(lambda port=port: accepting(port), self.nginx, f"listening on {port}")

    def stop(self):
        """Stop every process: all terminated at once, then each waited for; then the
        broker."""
        for process in self.processes:
            process.terminate()
        for process in reversed(self.processes):
            process.stop()
        if self.broker and self.broker.process and self.broker.process.poll() is None:
            self.broker.stop()

    def logs(self):
        """The tails of every log of this deployment, for a failure report."""
        parts = []
        for process in self.processes:
            parts.append(f"--- {process.name} ({process.log}) ---\n{tail(process.output())}")
        for name in ("error.log", "access.log"):
            path = self.workdir / "nginx" / name
            if path.exists():
                parts.append(f"--- nginx {name} ---\n{tail(path.read_text(errors='replace'))}")
        return "\n".join(parts)

    # -- identities

    def http(self, method, path, *, headers=None, body=None, port=None):
        """An HTTPS request through nginx; or, with ``port``, a plain one straight to
        that server with the header nginx adds for Django (X-Forwarded-Proto)."""
        if port is None:
            return request(self.https_port, method, path, tls=True, headers=headers, body=body)
        headers = {"X-Forwarded-Proto": "https", **(headers or {})}
        return request(port, method, path, headers=headers, body=body)

    def obtain_token(self, username, *, port=None):
        """auth=token: POST /api/token/ with JSON credentials; returns the key."""
        response = self.http(
            "POST",
            "/api/token/",
            headers={"Content-Type": "application/json"},
            body=json.dumps({"username": username, "password": self.password}),
            port=port,
        )
        try:
            return response.json()["token"]
        except (ValueError, KeyError, TypeError):
            raise SignInError(f"POST /api/token/ for {username}: {response!r}") from None

    def log_in(self, username, *, port=None):
        """auth=session: a :class:`Browser` logged in as ``username``."""
        return Browser(self).log_in(username, self.password, port=port)

    def credentials(self, username):
        """The handshake headers that say who the client is."""
        if self.auth == "token":
            return {"Authorization": f"Token {self.tokens[username]}"}
        return {"Cookie": f"sessionid={self.browsers[username].cookies['sessionid']}"}

    def api(self, user, method, path, payload=None, *, port=None):
        """A request to the JSON API as ``user`` (a JSON POST with ``payload``), as a
        client of its auth option sends it: the token header, or the session's cookies
        and CSRF token. Through nginx, or straight to the server on ``port``."""
        if self.auth == "session":
            browser = self.browsers[user]
            if payload is None:
                return browser.request(method, path, port=port)
            if method != "POST":
                raise ValueError(f"a JSON {method} is not what the site's pages send")
            return browser.post_json(path, payload, port=port)
        headers = {"Authorization": f"Token {self.tokens[user]}"}
        body = None
        if payload is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(payload)
        return self.http(method, path, headers=headers, body=body, port=port)

    def post_notification(self, sender, payload, *, port=None):
        """POST /api/notifications/ as ``sender``: through nginx, or to one server."""
        return self.api(sender, "POST", "/api/notifications/", payload, port=port)

    # -- WebSockets

    def websocket(
        self, path, *, user=None, origin=True, headers=None, server=None, compression=None
    ):
        """An unopened ``websockets`` connection (``async with`` it).

        Through nginx's TLS port, or with ``server`` (an index into ``server_ports``)
        straight to that server over plain ws://. ``user`` adds that user's credentials;
        ``origin`` True sends the site's own origin, None sends none; ``compression``
        "deflate" offers per-message compression, as browsers do.
        """
        all_headers = dict(self.credentials(user)) if user else {}
        all_headers.update(headers or {})
        if origin is True:
            origin = self.origin
        if server is None:
            uri, tls = f"wss://localhost:{self.https_port}{path}", insecure_tls()
        else:
            uri, tls = f"ws://localhost:{self.server_ports[server]}{path}", None
            all_headers["X-Forwarded-Proto"] = "https"
        return connect(
            uri,
            host="127.0.0.1",
            ssl=tls,
            origin=origin,
            additional_headers=all_headers,
            compression=compression,
            proxy=None,
            open_timeout=OPEN_TIMEOUT,
            close_timeout=2,
            ping_interval=None,
            max_size=None,
        )


class Deployments:
    """The deployments of one test session, started on first use.

    With ``keep_one`` (under xdist, where ``--dist loadgroup`` runs a combination's tests
    one after the other) starting one stops the others; otherwise all live until
    :meth:`stop_all`. A deployment that failed to start is not tried again.
    """

    def __init__(self, tmp_path_factory, certificate, *, keep_one):
        self.tmp_path_factory = tmp_path_factory
        self.certificate = certificate
        self.keep_one = keep_one
        self.running = {}
        self.failed = {}

    def get(self, bake, install, redis_url=None):
        if bake.id in self.failed:
            raise DeploymentError(
                f"the deployment of {bake.id} failed to start earlier:\n{self.failed[bake.id]}"
            )
        if bake.id not in self.running:
            if self.keep_one:
                self.stop_all()
            workdir = self.tmp_path_factory.mktemp(f"live-{bake.id}")
            deployment = Deployment(bake, install, workdir, self.certificate, redis_url)
            try:
                deployment.start()
            except Exception as error:
                self.failed[bake.id] = f"{error}\n{deployment.logs()}"
                raise DeploymentError(self.failed[bake.id]) from error
            self.running[bake.id] = deployment
        return self.running[bake.id]

    def stop_all(self):
        while self.running:
            _, deployment = self.running.popitem()
            deployment.stop()


# --- fixtures ------------------------------------------


@pytest.fixture(scope="session")
def live_deployments(request, tmp_path_factory, certificate, clean_installs):
    # clean_installs: the servers run from them, so they go after the servers stop.
    deployments = Deployments(
        tmp_path_factory,
        certificate,
        keep_one=hasattr(request.config, "workerinput"),
    )
    yield deployments
    deployments.stop_all()


@pytest.fixture
def live(live_deployments, baked, clean_installs, request):
    """This combination's deployment, started by its first live test."""
    redis_url = None
    if baked.combination["channel_layer"] == "redis":
        # A database of its own: the servers outlive this test, and the baked suites
        # that run meanwhile on this worker use (and empty) database 0.
        redis_url = request.getfixturevalue("redis_server").removesuffix("/0") + "/1"
    deployment = live_deployments.get(baked, clean_installs(baked), redis_url)
    request.node.user_properties.append(("live_timings", deployment.timings))
    return Live(deployment, request.node)


class Live:
    """A test's view of the deployment (its attributes pass through): runs the test's
    conversation bounded in time, and on failure adds the tails of the deployment's
    logs to the report."""

    def __init__(self, deployment, node):
        self.deployment = deployment
        self.node = node

    def __getattr__(self, name):
        return getattr(self.deployment, name)

    @contextmanager
    def reporting(self):
        try:
            yield
        except BaseException:
            self.node.add_report_section("call", "live deployment logs", self.logs())
            raise

    def run(self, scenario, timeout=SCENARIO_TIMEOUT):
        async def bounded():
            async with asyncio.timeout(timeout):
                return await scenario()

        with self.reporting():
            return asyncio.run(bounded())

    def record(self, name, value):
        """A measurement: printed under the run's summary matrix, and a junitxml
        property of the test."""
        self.node.user_properties.append(("measured", (name, value)))
