"""The baked README's set-up and run commands work when typed as written.

In a copy of the bake, as its user has it (``.env`` included), a terminal types every
line of the README's "Set up" block, answering ``createsuperuser`` at its prompts, then
the "Run locally" command, and the server must answer. It all runs in a network
namespace of its own (``unshare --net``), where the README's port 8000 is free whatever
else this machine runs; pip installs from the wheelhouse, as the network is not there.
Projects with the Redis layer need a Redis server beside them, which the README says how
to start: the in-memory combinations of the covering set cover both servers.
"""

import itertools
import os
import re
import shutil

import pytest

from tests.support.clean_install import find_python
from tests.support.processes import require
from tests.support.terminal import Terminal
from tests.support.walkthrough import section, steps

pytestmark = [pytest.mark.stage("readme"), pytest.mark.only(channel_layer="in_memory")]
STEP_TIMEOUT = 300  # seconds for one line of the README: pip install is the longest
PASSWORD = "a-long-readme-password-2026"
SERVER_CHECK = """
import sys, time, urllib.request
deadline = time.monotonic() + 120
while True:
    try:
        with urllib.request.urlopen("http://127.0.0.1:8000/healthz", timeout=5) as answer:
            print(f"__healthz-{answer.status}__")
            break
    except OSError:
        if time.monotonic() > deadline:
            print("__healthz-never__")
            break
        time.sleep(0.2)
"""


def typed(terminal, line, timeout=STEP_TIMEOUT, answers=()):
    """Type one line of the README, answer its prompts, and wait until it is done;
    fail unless it exits 0."""
    terminal.type(f"{line}; echo __done-$?__")
    for prompt, answer in answers:
        terminal.expect(re.escape(prompt), timeout)
        terminal.type(answer)
    code = terminal.expect(r"__done-(\d+)__", timeout).group(1)
    assert code == "0", f"`{line}` exited {code}:\n{terminal.tail()}"


def readme_blocks(readme, heading):
    return [step.body.strip() for step in steps(section(readme, heading)) if step.kind == "sh"]


def test_the_readme_sets_the_project_up_and_serves_it(baked, wheelhouse, tmp_path):
    if os.geteuid() != 0:
        pytest.fail("This test needs root, for a network namespace (unshare --net).", pytrace=False)
    require("unshare")
    require("ip")
    readme = (baked.path / "README.md").read_text()
    set_up = readme_blocks(readme, "Set up")[0]
    serve = readme_blocks(readme, "Run locally")[0]
    project = shutil.copytree(baked.path, tmp_path / baked.path.name)
    (tmp_path / "check.py").write_text(SERVER_CHECK)
    # python3 is the Python the README asks for.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(find_python(baked_python_version(baked)))
    env = {
        "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
    } | wheelhouse.environment()
    terminal = Terminal(
        ["unshare", "--net", "--", "bash", "--noprofile", "--norc"], cwd=project, env=env
    )
    try:
        terminal.type("stty -echo; ip link set lo up")
        for line in set_up.splitlines():
            answers = ()
            if line.strip() == "python manage.py createsuperuser":
                answers = (
                    ("Username", "admin"),
                    ("Email address:", "admin@example.com"),
                    ("Password:", PASSWORD),
                    ("Password (again):", PASSWORD),
                )
            typed(terminal, line, answers=answers)
        terminal.type(f"{serve} > {tmp_path / 'server.log'} 2>&1 &")
        terminal.type(f"python {tmp_path / 'check.py'}")
        status = terminal.expect(r"__healthz-(\w+)__", 150).group(1)
        assert status == "200", terminal.tail() + (tmp_path / "server.log").read_text()
    finally:
        terminal.stop()
    log = (tmp_path / "server.log").read_text().splitlines()
    doubled = [a for a, b in itertools.pairwise(log) if a == b and a.strip()]
    assert not doubled, f"the server printed lines twice:\n{doubled}"


def baked_python_version(baked):
    """The Python version the baked project's workflow (and README) names."""
    workflow = (baked.path / ".github/workflows/ci.yml").read_text()
    return workflow.split('python-version: "', 1)[1].split('"', 1)[0]
