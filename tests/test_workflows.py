"""The GitHub workflows pass zizmor's audit: every bake's, and the template's own.

zizmor audits GitHub Actions workflows for security pitfalls: actions not pinned to a
commit, a token left in the checkout, broad token permissions, caches that a release
could be poisoned through, untrusted input in scripts. It runs offline (the audits that
ask GitHub's API are left out) and reports findings of medium severity and above: the
same command that a baked project's CI runs on itself (its "Workflow audit" step).
"""

import shlex
import sys
from pathlib import Path

import pytest

from tests.support.options import REPO_ROOT
from tests.support.processes import run

AUDIT = ("--offline", "--min-severity", "medium")
# A workflow that the audit would pass but for its action, pinned to a tag, not a commit.
UNPINNED_WORKFLOW = """\
name: CI
on: push
permissions:
  contents: read
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          persist-credentials: false
      - run: echo tested
"""


def zizmor():
    """The zizmor of this test run's environment: a program, installed beside Python."""
    path = Path(sys.executable).parent / "zizmor"
    if not path.is_file():
        pytest.fail(
            f"zizmor is not installed beside {sys.executable}: `make test` installs it "
            "(the `test` group of pyproject.toml, which pins its version), or "
            f"`{sys.executable} -m pip install zizmor==<that version>`",
            pytrace=False,
        )
    return path


def require_workflows(project):
    """Fail unless ``project``'s .github/workflows/ holds a workflow to audit."""
    folder = project / ".github" / "workflows"
    if not folder.is_dir():
        pytest.fail(f"{folder} does not exist: there is no workflow to audit", pytrace=False)
    if not [*folder.glob("*.yml"), *folder.glob("*.yaml")]:
        pytest.fail(f"{folder} holds no workflow (*.yml, *.yaml) to audit", pytrace=False)


def audit(project):
    """zizmor's audit of ``project``'s workflows, run there as its CI runs it."""
    require_workflows(project)
    return run([zizmor(), *AUDIT, ".github/workflows"], cwd=project, check=False)


def assert_zizmor_finds_nothing(project):
    result = audit(project)
    assert result.returncode == 0, (
        f"`{shlex.join(result.command)}` in {project} exited {result.returncode}:\n{result.output}"
    )


@pytest.mark.stage("zizmor")
def test_baked_workflows_pass_zizmors_audit(baked):
    assert_zizmor_finds_nothing(baked.path)


def test_the_templates_own_workflows_pass_zizmors_audit():
    """The template's own .github/workflows/ (its CI, written alongside this test) must
    exist and hold at least one workflow; while it does not, this test fails saying so.
    Whatever workflows it holds must pass the same audit as a baked project's."""
    assert_zizmor_finds_nothing(REPO_ROOT)


def test_the_audit_refuses_an_action_pinned_to_a_tag(tmp_path):
    """The audit bites at the severity the stage uses: an action pinned to a tag (one
    that its owner, or whoever takes over the repository, can move) fails it."""
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(UNPINNED_WORKFLOW)
    result = audit(tmp_path)
    assert result.returncode != 0 and "unpinned-uses" in result.output, result.output
