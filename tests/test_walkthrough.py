"""The README's "Add your own endpoint" works when followed to the letter.

On a copy of each covering combination's clean install (tests/support/clean_install.py),
every step of the section runs as written (tests/support/walkthrough.py): the copy, the
files, the patch to the routes, then the section's own commands, which run the new
endpoint's tests and the linter.
"""

import shutil

import pytest

from tests.support.processes import run
from tests.support.redis_server import flush_redis
from tests.support.walkthrough import section, steps

pytestmark = pytest.mark.stage("walkthrough")


def test_the_readme_adds_an_endpoint_as_written(clean_install, request, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(clean_install.checkout, project, ignore=shutil.ignore_patterns(".git"))
    env = {}
    if clean_install.bake.combination["channel_layer"] == "redis":
        env["REDIS_TEST_URL"] = request.getfixturevalue("redis_server")
        flush_redis(env["REDIS_TEST_URL"])
    walkthrough = steps(section((project / "README.md").read_text(), "Add your own endpoint"))
    assert [step.kind for step in walkthrough].count("sh") >= 2, walkthrough
    outputs = []
    for number, step in enumerate(walkthrough, start=1):
        if step.kind == "python":
            (project / step.path).write_text(step.body)
        elif step.kind == "diff":
            patch = tmp_path / f"step-{number}.patch"
            patch.write_text(step.body)
            run(["git", "apply", patch], cwd=project, what=f"step {number}: git apply")
        else:
            done = run(
                ["bash", "-eo", "pipefail", "-c", step.body],
                cwd=project,
                env=clean_install.step_environment_for(**env),
                what=f"step {number}:\n{step.body}",
            )
            outputs.append(done.output)
    assert "2 passed" in "\n".join(outputs), outputs
