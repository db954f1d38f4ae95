"""The Scaling guide's worked example runs as written and shows what it says.

In a copy of each clean install (tests/support/clean_install.py), the shell blocks of
docs/scaling.md's worked example run in order in one shell: Redis, two server processes
as production starts them, and the load tool through one process, then both. It all
runs in namespaces of its own (``unshare --net --pid``): the example's ports 6379, 8001
and 8002 are free there whatever else this machine runs, and every process it started
ends with the shell. The figures it printed are recorded (``-rA`` or junitxml).
"""

import os
import re
import shutil

import pytest

from tests.support.processes import require, run
from tests.support.walkthrough import section, steps

pytestmark = pytest.mark.stage("scaling guide")
EXAMPLE = "Worked example: two processes and Redis on one machine"
EXAMPLE_TIMEOUT = 600  # seconds for the whole example; about a minute on an idle machine


def test_the_worked_example_runs_as_written(clean_install, request, tmp_path):
    if os.geteuid() != 0:
        pytest.fail("This test needs root, for namespaces (unshare --net --pid).", pytrace=False)
    for tool in ("unshare", "ip", "redis-server", "redis-cli"):
        require(tool)
    project = tmp_path / "project"
    shutil.copytree(clean_install.checkout, project, ignore=shutil.ignore_patterns(".git"))
    guide = (project / "docs" / "scaling.md").read_text()
    blocks = [step.body for step in steps(section(guide, EXAMPLE)) if step.kind == "sh"]
    assert len(blocks) == 4, blocks
    script = "ip link set lo up\nset -euo pipefail\n" + "".join(blocks)

    done = run(
        ["unshare", "--net", "--pid", "--fork", "--kill-child", "--mount-proc"]
        + ["bash", "--noprofile", "--norc", "-c", script],
        cwd=project,
        env=clean_install.step_environment_for(),
        timeout=EXAMPLE_TIMEOUT,
        what="docs/scaling.md's worked example",
    )

    printed = done.stdout
    commands = figures("total_commands_processed:", printed, indent="")
    sent = figures("messages sent", printed)
    delivered = figures("deliveries/s", printed)
    lost = figures("deliveries lost", printed)
    per_socket = figures("server KB per socket", printed)
    assert len(commands) == 3 and len(sent) == len(delivered) == 2, printed
    assert len(per_socket) == 1 and lost == [0, 0], printed
    # Each run sends up to 2,000 messages, fewer if its time bound (--duration) comes first.
    one, two = (
        round((after - before) / messages, 1)
        for before, after, messages in zip(commands, commands[1:], sent)
    )
    # Spread over two processes, each message crosses Redis once more.
    assert two > one > 0, (one, two, printed)
    for name, value in (
        ("deliveries/s, one process", delivered[0]),
        ("deliveries/s, two processes", delivered[1]),
        ("Redis commands a message, one process", one),
        ("Redis commands a message, two processes", two),
        ("KB per idle socket, two processes", per_socket[0]),
    ):
        request.node.user_properties.append(("measured", (name, value)))


def figures(name, printed, indent="  "):
    """The values of a row of the load tool's tables (or of redis-cli's info), in the
    order printed."""
    found = re.findall(rf"^{indent}{re.escape(name)} *([\d,.]+)\r?$", printed, re.MULTILINE)
    return [float(value.replace(",", "")) for value in found]
