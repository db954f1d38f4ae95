"""A baked project deployed for real on this machine, for the stages live, faults, jobs, browser.

The project runs as its README documents for production: ``collectstatic`` and
``migrate`` against a fresh SQLite file, then its own start command ``deploy/serve.sh``
(one process, or two sharing Redis with the redis layer) on loopback ports, behind a real
nginx that runs the project's ``deploy/nginx.conf`` with a throw-away certificate. With
``tasks=celery`` the README's worker command runs beside them, with a ``redis-server`` of
its own as the broker. The clients are ``http.client`` and the ``websockets`` library, as
an outside user's would be.

A :class:`Deployment` is the composition of its parts, each in a module of its own:

- ``project``: the copied project, its environment, ``manage.py``, its database
  (tests/support/project.py);
- ``supervisor``: every process it started, with its log (tests/support/supervisor.py);
- ``servers``: ``deploy/serve.sh`` on each port (tests/support/servers.py);
- ``worker`` and ``broker``: the Celery worker, with ``tasks=celery``
  (tests/support/worker.py);
- ``proxy``: nginx in front (tests/support/nginx.py);
- ``clients``: HTTP, sign-in, the API and WebSockets (tests/support/clients.py).

Every process writes its output to a log file in the deployment's folder; failures show
the tails. :class:`Deployments` keeps the deployments of one test session and stops each
when it is done with it.
"""

import asyncio
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest

from tests.support.clients import Clients
from tests.support.nginx import Proxy
from tests.support.processes import free_ports
from tests.support.project import (
    USERS,
    Project,
    production_env,  # noqa: F401 (tests/test_deployment.py imports it from here)
)
from tests.support.redis_server import RedisServer, flush_redis
from tests.support.servers import Servers
from tests.support.supervisor import Supervisor
from tests.support.worker import DEPLOYMENT_ENV, Worker

SCENARIO_TIMEOUT = 180  # seconds for one test's whole conversation


class DeploymentError(Exception):
    """The deployment did not come up; the message has the logs' tails."""


class Deployment:
    """One baked project served by ``deploy/serve.sh`` behind nginx (see the module's
    docstring for its parts). ``http``, ``api``, ``post_notification`` and ``websocket``
    are its clients', by their short names."""

    def __init__(self, bake, install, workdir, certificate, redis_url=None, *, redis_env=None):
        self.id = bake.id
        self.combination = bake.combination
        self.auth = bake.combination["auth"]
        self.redis_url = redis_url
        # How the servers find Redis: REDIS_URL, or the variables of ``redis_env`` (the
        # sentinels of tests/support/sentinel.py).
        redis_env = {"REDIS_URL": redis_url} if redis_url else dict(redis_env or {})
        http_port, https_port, *server_ports = free_ports(2 + (2 if redis_env else 1))
        self.proxy = Proxy(workdir / "nginx", certificate, server_ports, http_port, https_port)
        self.password = secrets.token_urlsafe(16)
        # tasks=celery: the broker is a redis-server of its own, so that a test can stop
        # it alone; the channel layer keeps its Redis. With ``redis_env``, the project
        # finds its broker as its settings say (through the sentinels).
        celery = self.combination["tasks"] == "celery"
        self.broker = RedisServer(workdir / "broker") if celery and redis_url else None
        if self.broker:
            redis_env["CELERY_BROKER_URL"] = self.broker.url
        self.project = Project(
            install,
            workdir,
            origin=self.proxy.origin,
            password=self.password,
            extra_env=redis_env | (DEPLOYMENT_ENV if celery else {}),
        )
        self.supervisor = Supervisor(workdir, self.project.path, self.project.env)
        self.servers = Servers(self.supervisor, server_ports)
        self.worker = Worker(self.supervisor) if celery else None
        self.clients = Clients(self.auth, self.password, self.proxy, server_ports)
        self.http, self.api = self.clients.http, self.clients.api
        self.post_notification = self.clients.post_notification
        self.websocket = self.clients.websocket
        self.timings = {}  # step -> seconds from the start until it was done

    def start(self):
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self):
        started = time.monotonic()

        def done(step):
            self.timings[step] = time.monotonic() - started

        self.project.copy()
        if self.redis_url:
            flush_redis(self.redis_url)
        if self.broker:
            self.broker.directory.mkdir()
            self.broker.start()
        self.project.prepare()
        done("migrated")
        with ThreadPoolExecutor(1) as pool:
            # Users are made while the servers start, as on a live site.
            users = pool.submit(self.project.create_users)
            self.servers.start()
            if self.worker:
                self.worker.start()
            self.servers.wait_healthy()
            done("servers up")
            if self.worker:
                self.worker.wait_ready()
                done("worker up")
            users.result()
        self.proxy.start(self.project.path, self.supervisor)
        done("nginx up")
        self.clients.sign_in(list(USERS))
        done("ready")

    def stop(self):
        """Stop every process, then the broker."""
        self.supervisor.stop()
        if self.broker and self.broker.process and self.broker.process.poll() is None:
            self.broker.stop()

    def logs(self):
        """The tails of every log of this deployment, for a failure report."""
        return "\n".join(filter(None, [self.supervisor.logs(), self.proxy.logs()]))


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
