"""A throw-away PostgreSQL server, the database that a baked project's compose stack runs.

``initdb`` and ``postgres`` from Debian's ``postgresql`` package, on a free loopback port,
for the test session.
"""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.support.processes import free_port, output_lines, run, wait_for_line

INSTALL_HINT = (
    "PostgreSQL is not installed: `make test` installs it (the Debian package "
    "postgresql, see tests/system-packages.sh)."
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
    run(
        [*as_postgres, bin_dir / "initdb", "-D", data, "-U", "app", "--auth=trust"]
        + ["--no-sync", "--encoding=UTF8"],
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
