"""Shared machinery of the template's test suite.

Every combination of the choice options in ``cookiecutter.json`` is baked once per test
run (per xdist worker, and ``--dist loadgroup`` keeps each combination on one worker),
and the per-combination tests reuse that bake. At the end the controller prints a
matrix: one row per combination, one column per stage.
"""

import itertools
import json
import queue
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from xdist.scheduler import LoadGroupScheduling

# Fixtures of the live deployments, for test_live, test_faults and test_browser.
from tests.live import live, live_deployments  # noqa: F401

REPO_ROOT = Path(__file__).resolve().parent.parent
COOKIECUTTER_JSON = json.loads((REPO_ROOT / "cookiecutter.json").read_text())

# Every non-underscore key with a list value is a choice option; the first value of
# each list is its default.
CHOICE_OPTIONS = {
    key: value
    for key, value in COOKIECUTTER_JSON.items()
    if not key.startswith("_") and isinstance(value, list)
}
COMBINATIONS = [
    dict(zip(CHOICE_OPTIONS, values))
    for values in itertools.product(*CHOICE_OPTIONS.values())
]

# Columns of the summary matrix, in order. Each per-combination test names its column
# with ``@pytest.mark.stage(...)``; several tests may share one column. A stage not
# listed here gets a column after these.
STAGES = (
    "baked",
    "no leftovers",
    "ruff check",
    "ruff format",
    "manage.py check",
    "migrations",
    "own tests",
    "pins",
    "deploy check",
    "compose",
    "nginx",
    "workflow",
    "live",
    "faults",
    "browser",
)

# The combinations that the slower live tests (faults, browser) run on: between them
# they hold every server with every channel layer, every auth option with every server
# and every consumer style with every layer. Tests opt in with
# ``@pytest.mark.combinations(*COVERING)``.
COVERING = (
    "async-session-in_memory-daphne",
    "sync-token-in_memory-uvicorn",
    "sync-token-redis-daphne",
    "async-session-redis-uvicorn",
)

REDIS_READY_LINE = "Ready to accept connections"
REDIS_START_TIMEOUT = 30
REDIS_INSTALL_HINT = (
    "redis-server is not on PATH, and the redis combinations need a real Redis. "
    "Install it: `apt-get install redis-server` on Debian/Ubuntu, "
    "`brew install redis` on macOS."
)


def combination_id(combination):
    """Readable id such as ``async-session-in_memory-daphne``."""
    return "-".join(combination[option] for option in CHOICE_OPTIONS)


COMBINATION_IDS = [combination_id(c) for c in COMBINATIONS]


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "stage(name): the summary-matrix column a per-combination test fills"
    )
    config.addinivalue_line(
        "markers", "combinations(*ids): run the test on these combinations only"
    )
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(StageMatrix(config), "stage-matrix")


def pytest_generate_tests(metafunc):
    """Parametrize every test that asks for ``combination``, one param per combination,
    each in its own xdist group so that one worker bakes and tests it."""
    if "combination" in metafunc.fixturenames:
        only = metafunc.definition.get_closest_marker("combinations")
        unknown = set(only.args if only else ()) - set(COMBINATION_IDS)
        if unknown:
            raise ValueError(f"unknown combinations: {sorted(unknown)}")
        metafunc.parametrize(
            "combination",
            [
                pytest.param(c, id=cid, marks=pytest.mark.xdist_group(cid))
                for c, cid in zip(COMBINATIONS, COMBINATION_IDS)
                if only is None or cid in only.args
            ],
        )


class CombinationGroupScheduling(LoadGroupScheduling):
    """``--dist loadgroup`` that also works on pytest 9.2.

    xdist 3.8 tells the controller a test's group by appending ``@<group>`` to the
    test's nodeid on the worker, but pytest 9.2 no longer lets it change a nodeid, so
    every test becomes its own group (pytest-dev/pytest-xdist#1386). The group of a
    per-combination test is its ``xdist_group`` mark, which is its combination id,
    which is also (part of, with other parameters) its parametrize id: read it there.
    """

    def _split_scope(self, nodeid):
        if nodeid.rfind("@") > nodeid.rfind("]"):  # xdist's own suffix, once fixed
            return super()._split_scope(nodeid)
        if nodeid.endswith("]"):
            params = f"-{nodeid.rpartition('[')[2].removesuffix(']')}-"
            for cid in COMBINATION_IDS:
                if f"-{cid}-" in params:
                    return cid
        return nodeid


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") == "loadgroup":
        return CombinationGroupScheduling(config, log)
    return None


def pytest_collection_modifyitems(items):
    """Tag per-combination tests so their reports (which xdist sends back to the
    controller with their user_properties) say which matrix cell they fill."""
    for item in items:
        marker = item.get_closest_marker("stage")
        callspec = getattr(item, "callspec", None)
        if marker is None or callspec is None or "combination" not in callspec.params:
            continue
        cell = (combination_id(callspec.params["combination"]), marker.args[0])
        item.user_properties.append(("matrix_cell", cell))


class StageMatrix:
    """Collects per-combination results on the controller and prints the matrix."""

    def __init__(self, config):
        self.config = config
        self.started = time.perf_counter()
        # (combination id, stage) -> "passed" | "failed"
        self.cells = {}
        # combination id -> the xdist workers that ran its tests (should be one)
        self.workers = {}
        # endpoint -> frames fuzzed by the baked projects' own suites, all combinations
        self.fuzzed = {}
        # (combination id, name, value): what live tests measured (``Live.record``)
        self.measured = []

    def pytest_runtest_logreport(self, report):
        properties = dict(report.user_properties)
        fuzzed = properties.get("fuzzed_frames", {}) if report.when == "call" else {}
        for endpoint, frames in fuzzed.items():
            self.fuzzed[endpoint] = self.fuzzed.get(endpoint, 0) + frames
        cell = properties.get("matrix_cell")
        if cell is None:
            return
        cell = tuple(cell)
        if report.when == "call":
            for key, value in report.user_properties:
                if key == "measured":
                    self.measured.append((cell[0], *value))
        gateway = getattr(getattr(report, "node", None), "gateway", None)
        if gateway is not None:
            self.workers.setdefault(cell[0], set()).add(gateway.id)
        if report.failed:
            self.cells[cell] = "failed"
        elif report.when == "call" and report.passed:
            self.cells.setdefault(cell, "passed")
        elif report.skipped:
            self.cells.setdefault(cell, "skipped")

    def split_combinations(self):
        """Combinations whose tests ran on several workers, so baked several times,
        although ``--dist loadgroup`` asked for one worker per combination."""
        if self.config.getvalue("dist") != "loadgroup":
            return {}
        return {cid: w for cid, w in self.workers.items() if len(w) > 1}

    def pytest_sessionfinish(self, session):
        if self.split_combinations() and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter):
        elapsed = time.perf_counter() - self.started
        rows = [cid for cid in COMBINATION_IDS if any(c[0] == cid for c in self.cells)]
        if not rows:
            return
        seen = sorted({stage for _, stage in self.cells} - set(STAGES))
        # Only the columns of stages that ran (a run may select a few tests).
        stages = [s for s in [*STAGES, *seen] if any(c[1] == s for c in self.cells)]
        write = terminalreporter.write_line
        terminalreporter.section("baked combinations")
        first = max(len("combination"), *(len(cid) for cid in rows))
        widths = [max(len(stage), len("passed")) for stage in stages]
        header = ["combination".ljust(first)]
        header += [stage.ljust(w) for stage, w in zip(stages, widths)]
        write("  ".join(header).rstrip())
        ran = [stage for stage in stages if any(c[1] == stage for c in self.cells)]
        passed_all = 0
        for cid in rows:
            values = [self.cells.get((cid, stage), "-") for stage in stages]
            # Some stages run on a few combinations only ("-" elsewhere).
            passed_all += all(value in ("passed", "-") for value in values)
            cells = [cid.ljust(first)]
            cells += [value.ljust(w) for value, w in zip(values, widths)]
            write("  ".join(cells).rstrip())
        which = (
            "every stage"
            if len(ran) == len(stages)
            else f"every stage that ran ({', '.join(ran)})"
        )
        write(
            f"{passed_all}/{len(rows)} combinations passed {which} "
            f"(wall time {elapsed:.1f} s)",
            bold=True,
            green=passed_all == len(rows),
            red=passed_all != len(rows),
        )
        if self.fuzzed:
            counts = ", ".join(f"{e} {n}" for e, n in sorted(self.fuzzed.items()))
            write(f"fuzzed client frames per endpoint, all combinations: {counts}")
        if self.measured:
            terminalreporter.section("measured live")
            for cid, name, value in sorted(self.measured, key=lambda m: m[:2]):
                write(f"{cid}  {name}: {json.dumps(value)}")
        for cid, workers in sorted(self.split_combinations().items()):
            write(
                f"{cid} ran on {', '.join(sorted(workers))}, so it was baked more "
                "than once: --dist loadgroup did not keep it on one worker",
                red=True,
            )


@dataclass
class Bake:
    combination: dict
    id: str
    exit_code: int
    exception: BaseException | None
    path: Path | None
    # Relative path -> content, read right after baking, before any test runs a tool
    # in the project (which may add caches or bytecode).
    files: dict = field(repr=False)


def snapshot(project_path):
    return {
        path.relative_to(project_path).as_posix(): path.read_bytes()
        for path in sorted(project_path.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="session")
def template_dir():
    return REPO_ROOT


@pytest.fixture(scope="session")
def choice_options():
    """option -> its choices, from cookiecutter.json."""
    return CHOICE_OPTIONS


@pytest.fixture(scope="session")
def bakery(cookies_session, template_dir):
    """Bake each combination at most once per worker; later calls reuse the bake."""
    bakes = {}

    def bake(combination):
        cid = combination_id(combination)
        if cid not in bakes:
            result = cookies_session.bake(
                extra_context=combination, template=str(template_dir)
            )
            path = result.project_path if result.exit_code == 0 else None
            bakes[cid] = Bake(
                combination=combination,
                id=cid,
                exit_code=result.exit_code,
                exception=result.exception,
                path=path,
                files=snapshot(path) if path and path.is_dir() else {},
            )
        return bakes[cid]

    return bake


@pytest.fixture
def bake(bakery, combination):
    """The (possibly failed) bake of this test's combination."""
    return bakery(combination)


@pytest.fixture
def baked(bake):
    """The bake of this test's combination; fails the test if it did not bake."""
    if bake.exit_code != 0 or bake.path is None:
        pytest.fail(
            f"{bake.id} did not bake (exit code {bake.exit_code}): "
            f"{bake.exception!r}; see its 'baked' test",
            pytrace=False,
        )
    return bake


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pump_lines(stream, lines):
    for line in stream:
        lines.put(line)
    lines.put(None)


def output_lines(stream):
    """A queue of a process's output lines. A thread keeps draining the pipe after
    start-up too, so the process never blocks on a full pipe."""
    lines = queue.Queue()
    threading.Thread(target=_pump_lines, args=(stream, lines), daemon=True).start()
    return lines


def wait_for_line(lines, wanted, timeout):
    """Read queued output lines until one contains ``wanted``; return what was read.

    Raises TimeoutError after ``timeout`` seconds, EOFError if the output ends first.
    """
    deadline = time.monotonic() + timeout
    seen = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("".join(seen))
        try:
            line = lines.get(timeout=remaining)
        except queue.Empty:
            raise TimeoutError("".join(seen)) from None
        if line is None:
            raise EOFError("".join(seen))
        seen.append(line)
        if wanted in line:
            return "".join(seen)


class RedisServer:
    """A private redis-server on a free loopback port, without persistence. It can be
    stopped and started again on the same port (tests/test_faults.py does)."""

    def __init__(self, directory):
        self.executable = shutil.which("redis-server")
        if self.executable is None:
            pytest.fail(REDIS_INSTALL_HINT, pytrace=False)
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        """Start it; fail the test unless it is ready within REDIS_START_TIMEOUT."""
        self.process = subprocess.Popen(
            [self.executable, "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines = output_lines(self.process.stdout)
        try:
            wait_for_line(lines, REDIS_READY_LINE, REDIS_START_TIMEOUT)
        except TimeoutError as error:
            self.stop()
            pytest.fail(
                f"redis-server on port {self.port} not ready within "
                f"{REDIS_START_TIMEOUT} s; its output:\n{error}",
                pytrace=False,
            )
        except EOFError as error:
            code = self.process.wait(timeout=10)
            pytest.fail(
                f"redis-server on port {self.port} exited before it was ready "
                f"(exit code {code}); its output:\n{error}",
                pytrace=False,
            )

    def stop(self):
        """Terminate, wait, kill: it is gone when this returns."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def redis(tmp_path_factory):
    """This worker's :class:`RedisServer`, started on first use, stopped at the end of
    the session. The redis combinations ask for it lazily (``getfixturevalue``)."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_server(redis):
    """The URL of this worker's Redis (database 0)."""
    return redis.url


@pytest.fixture(scope="session")
def certificate(tmp_path_factory):
    """A throw-away self-signed certificate, as deploy/certs/ would hold."""
    directory = tmp_path_factory.mktemp("certs")
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-keyout",
            directory / "privkey.pem",
            "-out",
            directory / "fullchain.pem",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return directory
