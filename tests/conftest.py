"""The template's test suite: how tests get their combinations, and its fixtures.

Every combination of the choice options in ``cookiecutter.json`` is baked once per test
run (per xdist worker; ``--dist loadgroup`` keeps each combination on one worker), and
every per-combination test reuses that bake. A per-combination test names its stage,
the column of the summary matrix that it fills, and the stage decides which
combinations it runs on (tests/support/stages.py). The machinery lives in
tests/support/; test modules import from there, never from one another.
"""

import pytest

from tests.support import run_folder
from tests.support.baking import bake, baked, bakery, template_dir  # noqa: F401
from tests.support.bench import TABLE, bench  # noqa: F401
from tests.support.browser import chromium  # noqa: F401
from tests.support.certificate import certificate  # noqa: F401
from tests.support.clean_install import clean_install, clean_installs, wheelhouse  # noqa: F401
from tests.support.cli import cookiecutter_config, run_cookiecutter  # noqa: F401
from tests.support.deployment import live, live_deployments  # noqa: F401
from tests.support.matrix import StageMatrix
from tests.support.options import COMBINATIONS, combination_id
from tests.support.postgres import postgres_url  # noqa: F401
from tests.support.redis_server import redis, redis_server  # noqa: F401
from tests.support.scheduling import pytest_xdist_make_scheduler  # noqa: F401
from tests.support.sentinel import sentinel_live  # noqa: F401
from tests.support.shards import parse_shard, select
from tests.support.soak import BusyMachine
from tests.support.stages import scope


def pytest_addoption(parser):
    parser.addoption(
        "--fast",
        action="store_true",
        help="the quick run of `make test-fast`: every combination baked, linted and "
        "checked, the own tests of the covering set, no live stages",
    )
    parser.addoption(
        "--bench",
        action="store_true",
        help="the benchmark of `make bench` with real counts, and nothing else; run it "
        "with -n 0 so that nothing else shares the machine (tests/support/bench.py)",
    )
    parser.addoption(
        "--screenshots",
        metavar="DIR",
        help="also save the browser stage's screenshots of the default combination here "
        "(make screenshots: docs/images)",
    )
    parser.addoption(
        "--shard",
        metavar="K/N",
        help="run the K-th of N disjoint parts of the suite, balanced by the measured "
        "cost of each stage; one combination's tests stay together (tests/support/shards.py)",
    )
    parser.addoption(
        "--summary-json",
        metavar="PATH",
        help="also write the run's summary (matrix, minutes per stage) as JSON, for "
        "`python -m tests.support.summary` to join the shards of one run",
    )
    parser.addoption(
        "--soak",
        type=int,
        default=0,
        metavar="N",
        help="run every combination's own suite N times on a busy machine, and nothing "
        "else (tests/test_soak.py)",
    )


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "stage(name): the summary-matrix column a per-combination test fills"
    )
    config.addinivalue_line(
        "markers", "only(**choices): of its stage's combinations, those with these choices"
    )
    config.addinivalue_line("markers", "soak: runs only with --soak N")
    config.addinivalue_line("markers", "slow: left out of --fast (make test-fast)")
    if shard := config.getoption("shard"):
        try:
            config.pluginmanager.register(Shard(shard), "shard")
        except ValueError as error:
            raise pytest.UsageError(str(error)) from None
    if not hasattr(config, "workerinput"):
        run_folder.name_the_run()
        config.pluginmanager.register(StageMatrix(config), "stage-matrix")
        if config.getoption("soak"):
            config.pluginmanager.register(BusyMachine(), "busy-machine")


def pytest_unconfigure(config):
    if not hasattr(config, "workerinput"):
        run_folder.remove()


def pytest_generate_tests(metafunc):
    """Parametrize every test that asks for ``combination`` with the combinations of its
    stage, each in its own xdist group so that one worker bakes and tests it."""
    if "combination" not in metafunc.fixturenames:
        return
    stage = metafunc.definition.get_closest_marker("stage")
    if stage is None:
        raise ValueError(f"{metafunc.definition.nodeid} asks for a combination but names no stage")
    ids = scope(stage.args[0])
    only = metafunc.definition.get_closest_marker("only")
    choices = only.kwargs.items() if only else {}.items()
    metafunc.parametrize(
        "combination",
        [
            pytest.param(
                c,
                id=combination_id(c),
                marks=pytest.mark.xdist_group(combination_id(c)),
            )
            for c in COMBINATIONS
            if combination_id(c) in ids and choices <= c.items()
        ],
    )


def pytest_collection_modifyitems(config, items):
    """Keep what this run runs: with ``--soak`` the soak only, with ``--fast`` the fast
    stages on their combinations. Tag every per-combination test with its matrix cell
    (xdist sends the user_properties back to the controller with the reports)."""
    soaking, fast = config.getoption("soak") > 0, config.getoption("fast")
    benching = config.getoption("bench")
    kept, deselected = [], []
    for item in items:
        stage = item.get_closest_marker("stage")
        callspec = getattr(item, "callspec", None)
        cid = combination_id(callspec.params["combination"]) if stage and callspec else None
        runs = bool(item.get_closest_marker("soak")) == soaking
        if fast and cid is not None:
            runs = runs and cid in scope(stage.args[0], fast=True)
        if fast and item.get_closest_marker("slow"):
            runs = False
        if benching:
            runs = bool(stage) and stage.args[0] == "bench"
        (kept if runs else deselected).append(item)
        if runs and cid is not None:
            item.user_properties.append(("matrix_cell", (cid, stage.args[0])))
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


class Shard:
    """``--shard K/N``: of what this run would run, after ``-k`` and the stages' choice
    of combinations, the K-th part."""

    def __init__(self, text):
        self.k, self.n = parse_shard(text)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config, items):
        kept, deselected = select(items, self.k, self.n)
        if deselected:
            config.hook.pytest_deselected(items=deselected)
            items[:] = kept

    def pytest_report_header(self, config):
        return f"shard {self.k}/{self.n}: tests/support/shards.py"


def pytest_terminal_summary(terminalreporter, config):
    """``make bench``'s table, when this process ran the benchmark."""
    if table := config.stash.get(TABLE, ""):
        terminalreporter.write_sep("=", "bench")
        terminalreporter.write_line(table)
