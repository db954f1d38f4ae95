"""The template's own GitHub Actions workflow (``.github/workflows/ci.yml``), its run steps
run here as a runner would run them: in order, with bash as GitHub runs it, with the job's
and the step's ``env``, the ``${{ matrix.* }}`` and ``${{ needs.*.outputs.* }}`` that the
step names filled in, and a ``GITHUB_OUTPUT`` file."""

import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from tests.support.baking import tool_env
from tests.support.environments import BASH
from tests.support.options import REPO_ROOT
from tests.support.processes import run

WORKFLOW = REPO_ROOT / ".github" / "workflows" / "ci.yml"
EXPRESSION = re.compile(r"\$\{\{\s*([\w.-]+)\s*\}\}")
STEP_TIMEOUT = 600


def load():
    if not WORKFLOW.exists():
        pytest.fail(f"{WORKFLOW.relative_to(REPO_ROOT)} is missing", pytrace=False)
    return yaml.safe_load(WORKFLOW.read_text())


def expand(text, context):
    """``${{ name }}`` expressions replaced by their values in ``context``; any other
    expression fails the test (no stand-in for it here)."""

    def value(match):
        if match[1] not in context:
            pytest.fail(f"no stand-in for ${{{{ {match[1]} }}}} in {WORKFLOW.name}")
        return str(context[match[1]])

    return EXPRESSION.sub(value, text)


def copy_of_the_repository(destination):
    """What a checkout of this working tree holds (tracked and new files, not what git
    ignores), with file times kept, and this run's ``.venv`` linked in: ``make`` finds
    it up to date, as it does on a runner after its first ``make`` target."""
    listed = run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=REPO_ROOT
    ).stdout
    for name in filter(None, listed.split("\0")):
        source = REPO_ROOT / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    (destination / ".venv").symlink_to(REPO_ROOT / ".venv")
    # The environment this run uses stands for the one `make` would build from this
    # pyproject.toml: older than it, by a second (make compares to the nanosecond).
    before = (REPO_ROOT / ".venv" / ".installed").stat().st_mtime_ns - 10**9
    os.utime(destination / "pyproject.toml", ns=(before, before))
    return destination


def run_job(job_name, workdir, context, *, extra_env=None):
    """Every ``run:`` step of a job, in order, in ``workdir``; the ``uses:`` steps and the
    job's container are what this machine already is (a checkout, a Python, Debian as
    root). Returns the job's outputs file text and the completed steps."""
    job = load()["jobs"][job_name]
    output_file = workdir.parent / f"{job_name}-outputs"
    output_file.write_text("")
    env = tool_env(GITHUB_OUTPUT=str(output_file), CI="true", **(extra_env or {}))
    completed = []
    for step in job["steps"]:
        if "run" not in step:
            continue
        values = {**job.get("env", {}), **step.get("env", {})}
        step_env = env | {key: expand(str(value), context) for key, value in values.items()}
        result = run(
            [*BASH, expand(step["run"], context)],
            cwd=workdir,
            env=step_env,
            timeout=STEP_TIMEOUT,
            what=f"{job_name}: {step.get('name', step['run'])}",
        )
        completed.append(result)
    return output_file.read_text(), completed


def outputs(text):
    """``name=value`` lines of a ``GITHUB_OUTPUT`` file, as a dict."""
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def collected(*args):
    """The node ids that ``pytest --collect-only -q`` lists here, with ``args``."""
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-n", "0", *args],
        cwd=REPO_ROOT,
        env=tool_env(),
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return [line for line in completed.stdout.splitlines() if "::" in line]
