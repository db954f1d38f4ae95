"""``make bench``: each baked project next to a bare ASGI app, measured by the project's
own load tool (``python -m <slug>.loadtest``) in one run.

Every server runs as production does (``deploy/serve.sh``, production settings, a fresh
SQLite file) with the rate limits raised by environment, and the ceiling
(tests/support/ceiling.py) runs on Uvicorn. Where ``taskset`` exists and the machine has
two cores, the server runs on core 0 and the tool on core 1. The figures of a project are
printed as ratios to the ceiling's, measured minutes apart on the same cores: this is a
benchmark, not a test; the suite only runs it small (the "bench" stage) to see that it
yields numbers.
"""

import json
import os
import shutil
import time
from dataclasses import dataclass, field

import pytest

from tests.support.processes import free_ports, run, tail
from tests.support.project import production_env
from tests.support.servers import healthy
from tests.support.supervisor import Process, wait_until

SUPPORT = os.path.dirname(__file__)
USER, PASSWORD = "bench", "bench-password-not-secret"
RAISED_LIMITS = {"RATE_LIMIT_PER_SECOND": "1000000", "RATE_LIMIT_BURST": "1000000"}

# column -> (scenario, its options in a bench run, in the suite's small run, figure read)
SCENARIOS = {
    "fan-out deliveries/s": (
        "fanout",
        "--receivers 100 --senders 1 --window 10 --messages 40000 --duration 8",
        "--receivers 5 --senders 1 --window 2 --messages 20 --duration 10",
        "deliveries/s",
    ),
    "paced 20/s p50 ms": (
        "fanout",
        "--receivers 100 --senders 1 --rate 20 --messages 200 --duration 12",
        "--receivers 5 --senders 1 --rate 20 --messages 10 --duration 10",
        "p50",
    ),
    "paced 20/s p99 ms": (None, None, None, "p99"),  # from the run above
    "echo round trips/s": (
        "echo",
        "--clients 50 --messages 200000 --duration 6",
        "--clients 2 --messages 20 --duration 10",
        "round trips/s",
    ),
    "idle KB per socket": (
        "idle",
        "--sockets 1000 --per-room 100",
        "--sockets 20 --per-room 10",
        "server KB per socket",
    ),
}
# Columns where less is better (a ratio above 1 is worse than the ceiling).
LOWER_IS_BETTER = {"paced 20/s p50 ms", "paced 20/s p99 ms", "idle KB per socket"}
TEN_THOUSAND = "--sockets 10000 --per-room 100"


def cores():
    """(server core, client core) prefixes, or none where pinning is not possible."""
    if shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        return ["taskset", "-c", "0"], ["taskset", "-c", "1"]
    return [], []


@dataclass
class Target:
    """A server to measure: started by ``command`` in ``cwd`` with ``env``."""

    name: str
    command: list
    cwd: object
    env: dict
    workdir: object
    process: object = None
    port: int = 0

    def start(self):
        self.port = free_ports(1)[0]
        server_core, _ = cores()
        env = self.env | {"PORT": str(self.port), "HOST": "127.0.0.1"}
        command = [*server_core, *[part.format(port=self.port) for part in self.command]]
        self.process = Process(
            self.name, command, log=self.workdir / "server.log", cwd=self.cwd, env=env
        )
        wait_until(lambda: healthy(self.port), self.process, "healthy")
        return self

    def stop(self):
        if self.process:
            self.process.stop()


@dataclass
class Tool:
    """A baked project's load tool, run from its clean install."""

    install: object
    credentials: list
    runs: list = field(default_factory=list)

    def run(self, target, scenario, options, *, pid=True):
        _, client_core = cores()
        slug = self.install.bake.path.name
        output = target.workdir / f"{scenario}-{len(self.runs)}.json"
        command = [
            *client_core,
            self.install.python,
            "-m",
            f"{slug}.loadtest",
            scenario,
            "--url",
            f"http://127.0.0.1:{target.port}",
            "--quiet",
            "--json",
            output,
            *self.credentials,
            *options.split(),
        ]
        if pid and scenario == "idle":
            command += ["--pid", target.process.popen.pid]
        completed = run(
            command,
            cwd=self.install.checkout,
            env=self.install.step_environment_for(),
            timeout=900,
            check=False,
        )
        if completed.returncode != 0:
            pytest.fail(
                f"{target.name}: {completed.report}\n--- server log ---\n"
                f"{tail(target.process.output())}",
                pytrace=False,
            )
        self.runs.append(completed)
        return json.loads(output.read_text())


def measure(target, tool, *, small):
    """The row of ``target``: column -> figure."""
    row, last = {}, None
    for column, (scenario, options, small_options, figure) in SCENARIOS.items():
        if scenario is None:
            row[column] = last["latency_ms"][figure]
            continue
        last = tool.run(target, scenario, small_options if small else options)
        row[column] = (
            last["latency_ms"][figure] if figure in ("p50", "p99") else last["figures"][figure]
        )
    return row


def project_target(install, workdir, redis_url=None):
    """A baked project from its clean install, as its README starts it in production."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = install.step_environment_for() | production_env(
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="False",
        DATABASE_URL=f"sqlite:///{workdir / 'db.sqlite3'}",
        **RAISED_LIMITS,
    )
    env.pop("DJANGO_SUPERUSER_PASSWORD", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    manage = [install.python, "manage.py"]
    for command in (["collectstatic", "--noinput"], ["migrate", "--noinput"]):
        run([*manage, *command], cwd=install.checkout, env=env)
    run(
        [*manage, "createsuperuser", "--noinput", "--username", USER, "--email", "b@example.com"],
        cwd=install.checkout,
        env=env | {"DJANGO_SUPERUSER_PASSWORD": PASSWORD},
    )
    return Target(install.bake.id, ["deploy/serve.sh"], install.checkout, env, workdir)


def ceiling_target(install, workdir):
    """The bare ASGI app on Uvicorn, from a clean install that has Uvicorn."""
    workdir.mkdir(parents=True, exist_ok=True)
    command = [
        str(install.python),
        "-m",
        "uvicorn",
        "ceiling:app",
        "--app-dir",
        SUPPORT,
        "--host",
        "127.0.0.1",
        "--port",
        "{port}",
        "--lifespan",
        "off",
        "--no-access-log",
    ]
    return Target(
        "raw ASGI app on uvicorn (ceiling)",
        command,
        workdir,
        install.step_environment_for(),
        workdir,
    )


def signed_in_tool(install):
    return Tool(install, ["--username", USER, "--password", PASSWORD])


def anonymous_tool(install):
    """The tool with made-up credentials: the ceiling asks for none."""
    flag = "--token" if install.bake.combination["auth"] == "token" else "--session-id"
    return Tool(install, [flag, "ceiling"])


@pytest.fixture(scope="session")
def bench(request, tmp_path_factory):
    """This run's :class:`Bench`: small counts unless ``--bench``; the table goes to the
    end of the run's summary."""
    found = Bench(tmp_path_factory.mktemp("bench"), small=not request.config.getoption("bench"))
    yield found
    request.config.stash[TABLE] = found.table()


TABLE = pytest.StashKey[str]()


class Bench:
    """The rows of one run: the ceiling's first, measured on first use."""

    def __init__(self, root, *, small):
        self.root = root
        self.small = small
        self.rows = {}
        self.notes = []

    def measure_ceiling(self, install):
        if "ceiling" in self.rows:
            return self.rows["ceiling"]
        target = ceiling_target(install, self.root / "ceiling").start()
        try:
            self.rows["ceiling"] = (
                target.name,
                measure(target, anonymous_tool(install), small=self.small),
            )
        finally:
            target.stop()
        return self.rows["ceiling"]

    def measure_project(self, install, redis_url=None):
        target = project_target(install, self.root / install.bake.id, redis_url).start()
        try:
            tool = signed_in_tool(install)
            row = measure(target, tool, small=self.small)
            self.rows[install.bake.id] = (install.bake.id, row)
            if (
                not self.small
                and install.bake.combination["server"] == "uvicorn"
                and not any("10,000" in note for note in self.notes)
            ):
                held = tool.run(target, "idle", TEN_THOUSAND)["figures"]
                self.notes.append(
                    f"10,000 idle chat sockets on {install.bake.id}: "
                    f"{held['server KB per socket']} KB per socket, the 10,001st welcomed "
                    f"in {held['welcome of one more (ms)']} ms"
                )
        finally:
            target.stop()
        return row

    def table(self):
        """The rows as a Markdown table, each figure with its ratio to the ceiling's."""
        if "ceiling" not in self.rows:
            return ""
        _, ceiling = self.rows["ceiling"]
        columns = list(SCENARIOS)
        lines = [
            "| server | " + " | ".join(columns) + " |",
            "| --- |" + " --- |" * len(columns),
        ]
        ordered = {"ceiling": self.rows["ceiling"]} | self.rows
        for key, (name, row) in ordered.items():
            cells = []
            for column in columns:
                value, base = row[column], ceiling[column]
                cell = f"{value:,.1f}" if value < 100 else f"{value:,.0f}"
                if key != "ceiling" and value and base:
                    ratio = value / base if column in LOWER_IS_BETTER else base / value
                    cell += f" ({ratio:.1f}x)" if column in LOWER_IS_BETTER else f" (1/{ratio:.1f})"
                cells.append(cell)
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        pinned = (
            "server on core 0, tool on core 1"
            if cores()[0]
            else "not pinned (no taskset or one core)"
        )
        return "\n".join([*lines, "", f"{pinned}; {time.strftime('%Y-%m-%d %H:%M')}", *self.notes])
