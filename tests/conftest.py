"""Shared machinery of the template's test suite.

Every combination of the choice options in ``cookiecutter.json`` is baked once per test
run (per xdist worker, and ``--dist loadgroup`` keeps each combination on one worker),
and the per-combination tests reuse that bake. At the end the controller prints a
matrix: one row per combination, one column per stage.
"""

import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from xdist.scheduler import LoadGroupScheduling

# Fixtures of the live deployments, for test_live, test_faults and test_browser.
from tests.live import live, live_deployments  # noqa: F401
from tests.support.clean_install import CleanInstall, Wheelhouse
from tests.support.options import (
    CHOICE_OPTIONS,
    COMBINATION_IDS,
    COMBINATIONS,
    REPO_ROOT,
    combination_id,
)
from tests.support.redis_server import RedisServer
from tests.support.soak import BusyMachine

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
    "fuzz",
    "pins",
    "deploy check",
    "compose",
    "nginx",
    "workflow",
    "live",
    "faults",
    "browser",
)


def pytest_addoption(parser):
    parser.addoption(
        "--soak",
        type=int,
        default=0,
        metavar="N",
        help="run every combination's own suite N times on a busy machine "
        "(tests/test_soak.py, which runs only with this option)",
    )


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "stage(name): the summary-matrix column a per-combination test fills"
    )
    config.addinivalue_line("markers", "soak: runs only with --soak N")
    config.addinivalue_line(
        "markers", "combinations(*ids): run the test on these combinations only"
    )
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(StageMatrix(config), "stage-matrix")
        if config.getoption("soak"):
            config.pluginmanager.register(BusyMachine(), "busy-machine")


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


def pytest_collection_modifyitems(config, items):
    """Keep the soak for ``--soak N`` runs, and tag per-combination tests so that their
    reports (which xdist sends back to the controller with their user_properties) say
    which matrix cell they fill."""
    soaking = config.getoption("soak") > 0
    deselected = [
        item for item in items if bool(item.get_closest_marker("soak")) != soaking
    ]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item not in deselected]
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
        # combination id -> {"notes", "timings"} of its clean install
        self.installs = {}
        # combination id -> {"runs", "flakes"}: what the soak saw
        self.soaked = {}

    def pytest_runtest_logreport(self, report):
        properties = dict(report.user_properties)
        fuzzed = properties.get("fuzzed_frames", {}) if report.when == "call" else {}
        for endpoint, frames in fuzzed.items():
            self.fuzzed[endpoint] = self.fuzzed.get(endpoint, 0) + frames
        cell = properties.get("matrix_cell")
        if cell is None:
            return
        cell = tuple(cell)
        if "clean_install" in properties:
            self.installs[cell[0]] = properties["clean_install"]
        if "soak" in properties:
            self.soaked[cell[0]] = properties["soak"]
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

    def write_installs(self, write):
        """One line per clean install: what its set-up and its workflow's steps took."""
        set_ups = []
        for cid, install in sorted(self.installs.items()):
            timings = install["timings"]
            steps = timings.get("steps", {})
            # The set-up: a fresh environment, then the README's and workflow's install.
            set_up = timings.get("venv", 0) + timings.get("install", 0)
            set_ups.append(set_up)
            shown = ", ".join(f"{name} {s:.1f} s" for name, s in steps.items())
            write(
                f"{cid}  clean install: venv {timings.get('venv', 0):.1f} s, {shown}; "
                f"workflow {timings.get('workflow', 0):.1f} s; "
                + "; ".join(install["notes"])
            )
        set_ups.sort()
        write(
            f"clean install set-up (venv and pip install), median of {len(set_ups)}: "
            f"{set_ups[len(set_ups) // 2]:.1f} s, longest {set_ups[-1]:.1f} s"
        )

    def write_soak(self, write):
        """Every test that failed in a soak run, by combination and test id."""
        runs = sum(soak["runs"] for soak in self.soaked.values())
        flakes = [
            (cid, test, numbers)
            for cid, soak in sorted(self.soaked.items())
            for test, numbers in sorted(soak["flakes"].items())
        ]
        write(
            f"soak: {len(flakes)} flaky tests in {runs} runs of the own suites of "
            f"{len(self.soaked)} combinations, every core busy",
            bold=True,
            green=not flakes,
            red=bool(flakes),
        )
        for cid, test, numbers in flakes:
            write(
                f"{cid}  {test}: failed in runs {', '.join(map(str, numbers))}",
                red=True,
            )

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
        if self.installs:
            self.write_installs(write)
        if self.soaked:
            self.write_soak(write)
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


@pytest.fixture(scope="session")
def wheelhouse():
    """Where every clean install takes its packages from: kept between runs, filled from
    the package index the first time a requirement is missing (see clean_install.py)."""
    return Wheelhouse(REPO_ROOT / ".cache" / "wheelhouse")


@pytest.fixture(scope="session")
def clean_installs(wheelhouse):
    """Install a combination once per worker; returns its :class:`CleanInstall`.

    The installs live in memory (/dev/shm) where the machine has it: writing a virtual
    environment there takes half the time it takes on a busy disk.
    """
    shared_memory = Path("/dev/shm")
    root = Path(
        tempfile.mkdtemp(
            prefix="clean-installs-",
            dir=shared_memory if os.access(shared_memory, os.W_OK) else None,
        )
    )
    installs = {}

    def install(bake):
        if bake.id not in installs:
            workdir = root / bake.id
            workdir.mkdir()
            installs[bake.id] = CleanInstall(bake, workdir, wheelhouse)
        installs[bake.id].run_workflow()
        return installs[bake.id]

    yield install
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def clean_install(clean_installs, baked):
    """This combination checked out, installed and tested by its own CI workflow."""
    return clean_installs(baked)
