"""``make demo``, as a newcomer runs it on a fresh clone.

It installs cookiecutter and the default project's base requirements only (no test
tools), serves the project on the port that ``DEMO_PORT`` names, and stops at once, saying
why, when that port is busy. The demo runs in a copy of the template's files, so that it
leaves this checkout's own ``.demo/`` alone.
"""

import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

from tests.support.http_client import request
from tests.support.options import REPO_ROOT
from tests.support.processes import free_port, run

pytestmark = pytest.mark.slow
DEMO_TIMEOUT = 600  # seconds: it downloads what it installs
READY = "Log in as demo / demo-password at http://127.0.0.1:"


@pytest.fixture
def template(tmp_path):
    """The template's files as a clone would hold them: tracked and not ignored."""
    listed = run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO_ROOT
    )
    copy = tmp_path / "template"
    for name in filter(None, listed.stdout.split("\0")):
        if (REPO_ROOT / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO_ROOT / name, copy / name)
    return copy


def demo_env():
    """The user's environment, without the test run's variables."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "VIRTUAL_ENV"))}


def test_a_busy_port_stops_the_demo_at_once(template):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run(
            ["make", "demo", f"DEMO_PORT={port}"],
            cwd=template,
            env=demo_env(),
            timeout=60,
            check=False,
        )
    assert result.returncode != 0, result.output
    assert f"Port {port} is busy: pick another, e.g. make demo DEMO_PORT=" in result.output
    assert not (template / ".demo").exists(), "it installed something before checking"


def test_the_demo_serves_the_default_project_without_the_test_tools(template, record_property):
    port = free_port()
    log = template.parent / "demo.log"
    started = time.monotonic()
    with open(log, "wb") as output:
        demo = subprocess.Popen(
            ["make", "demo", f"DEMO_PORT={port}"],
            cwd=template,
            env=demo_env(),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # make, its shell and the server: one group to stop
        )
    try:
        while not (READY in log.read_text() and port_open(port)):
            assert demo.poll() is None, f"make demo exited {demo.returncode}:\n{log.read_text()}"
            assert time.monotonic() - started < DEMO_TIMEOUT, log.read_text()
            time.sleep(0.5)  # a poll of the log, bounded by DEMO_TIMEOUT
        record_property("demo_s", round(time.monotonic() - started, 1))
        page = request(port, "GET", "/")
        assert (page.status, page.headers["Location"]) == (302, "/accounts/login/?next=/"), page
        assert request(port, "GET", "/accounts/login/").status == 200
    finally:
        os.killpg(demo.pid, signal.SIGTERM)
        demo.wait(timeout=30)
    installed = run([template / ".demo/realtime_chat/.venv/bin/python", "-m", "pip", "list"]).output
    assert "Django" in installed and "daphne" in installed
    for tool in ("pytest", "ruff", "hypothesis", "playwright", "cookiecutter"):
        assert tool not in installed, f"the demo's project has {tool}"


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError:
        return False
    return True
