"""The baked test suite also passes on PostgreSQL, the database docker-compose runs.

A real PostgreSQL server (Debian's ``postgresql`` package) starts on a free loopback
port for the session; one combination of each channel layer runs its own suite against
it through ``DATABASE_URL``.
"""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.support.options import COMBINATIONS, combination_id
from tests.support.processes import free_port, output_lines, run, tail, wait_for_line
from tests.test_baked_projects import OWN_TESTS_TIMEOUT
from tests.test_baked_projects import flush_redis as empty_redis

INSTALL_HINT = (
    "PostgreSQL is not installed: `apt-get install postgresql` (Debian/Ubuntu), "
    "or run `make test`, which installs it."
)
START_TIMEOUT = 60


def postgres_bin():
    """The folder of initdb and postgres: Debian keeps them out of PATH."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb is None:
        pytest.fail(INSTALL_HINT, pytrace=False)
    return Path(initdb).parent


@pytest.fixture(scope="session")
def postgres_url():
    """A throw-away PostgreSQL cluster; yields a URL whose user may create databases.

    PostgreSQL refuses to run as root, so as root the cluster belongs to the
    ``postgres`` user that the Debian package creates.
    """
    bin_dir = postgres_bin()
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    base = Path(tempfile.mkdtemp(prefix="template-pg-"))
    base.chmod(0o755)
    if as_postgres:
        shutil.chown(base, "postgres")
    data = base / "data"
    subprocess.run(
        [*as_postgres, bin_dir / "initdb", "-D", data, "-U", "app", "--auth=trust"]
        + ["--no-sync", "--encoding=UTF8"],
        check=True,
        capture_output=True,
        timeout=START_TIMEOUT,
    )
    port = free_port()
    server = subprocess.Popen(
        [*as_postgres, bin_dir / "postgres", "-D", data, "-p", str(port), "-k", base]
        + ["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = output_lines(server.stderr)
        wait_for_line(lines, "ready to accept connections", START_TIMEOUT)
        yield f"postgres://app@127.0.0.1:{port}/app"
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(base, ignore_errors=True)


def one_per_layer():
    """The first combination of each channel layer, in its xdist group."""
    chosen = {}
    for combination in COMBINATIONS:
        chosen.setdefault(combination["channel_layer"], combination)
    return [
        pytest.param(
            c, id=combination_id(c), marks=pytest.mark.xdist_group(combination_id(c))
        )
        for c in chosen.values()
    ]


@pytest.mark.parametrize("layer_combination", one_per_layer())
def test_own_suite_passes_on_postgresql(
    layer_combination, bakery, clean_installs, postgres_url, request
):
    """The project's own tests, in its clean install, with DATABASE_URL set."""
    baked = bakery(layer_combination)
    assert baked.path is not None, f"{baked.id} did not bake"
    install = clean_installs(baked)
    env = {"DATABASE_URL": postgres_url}
    if layer_combination["channel_layer"] == "redis":
        env["REDIS_URL"] = request.getfixturevalue("redis_server")
        empty_redis(env["REDIS_URL"])
    result = run(
        [install.python, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=install.checkout,
        env=install.step_environment_for(**env),
        timeout=OWN_TESTS_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, tail(result.output)
    assert "passed" in result.stdout
