"""The workshop kit: a project baked with workshop=exercises, installed as its users
install it.

Its own CI workflow runs in the clean install: lint, Django's checks, every test but the
exercises', then ``manage.py workshop``, the progress table. Then the exercises' tests
fail, each with the message of its own exercise's stub, until the answer key (the same
files of the workshop=none bake of the same options) is copied over the stubs: then the
whole suite passes and every exercise is done. And the README's offline install works
with no network at all: wheels downloaded once into ``wheels/``, installed from there.
"""

import os
import shutil

import pytest

from tests.support.options import complete_twin
from tests.support.processes import require, run, without
from tests.support.redis_server import flush_redis
from tests.support.walkthrough import section, steps
from tests.support.workshop import (
    copy_answer_key,
    exercise_numbers,
    junit_records,
    progress_rows,
)

pytestmark = pytest.mark.stage("workshop")


def installed(clean_install):
    """The clean install, its workflow passed: the project's slug."""
    failure = clean_install.failure()
    if failure:
        pytest.fail(failure, pytrace=False)
    return clean_install.bake.path.name


@pytest.fixture
def project_env(clean_install, request):
    """The environment of the project's commands after its workflow: its own Redis where
    it uses one, a secret key for manage.py (the checkout has no .env)."""
    env = {"DJANGO_SECRET_KEY": "workshop-stage-not-secret"}
    if clean_install.bake.combination["channel_layer"] == "redis":
        env["REDIS_URL"] = request.getfixturevalue("redis_server")
        env["REDIS_TEST_URL"] = env["REDIS_URL"]
        flush_redis(env["REDIS_URL"])
    return env


def test_each_exercise_fails_with_its_own_message_and_the_rest_pass(
    clean_install, project_env, tmp_path
):
    slug = installed(clean_install)  # every test but the exercises' passed
    numbers = exercise_numbers(clean_install.checkout, slug)
    assert numbers == set(range(1, len(numbers) + 1)), numbers

    [progress] = [r for r in clean_install.results if r.name == "Workshop progress"]
    assert progress_rows(progress.output) == dict.fromkeys(numbers, "not yet"), progress.output
    assert f"Next: exercise {min(numbers)}," in progress.output

    report = tmp_path / "report.xml"
    result = clean_install.run_tests(
        "-m", "exercise", "-o", "junit_logging=all", f"--junitxml={report}", **project_env
    )
    assert result.returncode == 1, result.report
    records = junit_records(report)
    assert {record.exercise for record in records.values()} == numbers
    for test, record in records.items():
        assert not record.passed, f"{test} passes before its exercise is done"
        assert f"Exercise {record.exercise}: " in record.text, f"{test}:\n{record.text}"


def test_the_answer_key_makes_every_test_pass_and_every_exercise_done(
    clean_install, bakery, project_env, tmp_path
):
    slug = installed(clean_install)
    answers = bakery(complete_twin(clean_install.bake.combination))
    project = tmp_path / "project"
    shutil.copytree(clean_install.checkout, project, ignore=shutil.ignore_patterns(".git"))
    copy_answer_key(answers.path, project, slug)
    env = clean_install.step_environment_for(**project_env)

    suite = run(
        [clean_install.python, "-m", "pytest", "-p", "no:cacheprovider"],
        cwd=project,
        env=env,
        check=False,
        timeout=900,
    )
    assert suite.returncode == 0, suite.report

    progress = run(
        [clean_install.python, "manage.py", "workshop"], cwd=project, env=env, timeout=900
    )
    rows = progress_rows(progress.stdout)
    assert rows and set(rows.values()) == {"done"}, progress.stdout
    assert f"All {len(rows)} exercises done." in progress.stdout


def test_the_readme_offline_install_needs_no_network(clean_install, tmp_path):
    """The README's two lines, as a facilitator runs them: ``pip download`` into
    ``wheels/`` (here from the suite's own wheelhouse, standing in for the index), then,
    in a network namespace of its own (``unshare --net``), a fresh environment installed
    from ``wheels/`` alone, in which Django's checks pass."""
    installed(clean_install)
    if os.geteuid() != 0:
        pytest.fail("This test needs root, for a network namespace (unshare --net).", pytrace=False)
    require("unshare")
    readme = (clean_install.checkout / "README.md").read_text()
    lines = [
        step.body.strip()
        for step in steps(section(readme, "Workshop: start here"))
        if step.kind == "sh"
    ]
    [download] = [line for line in lines if line.startswith("pip download ")]
    [offline] = [line for line in lines if "--no-index" in line]
    project = tmp_path / "project"
    shutil.copytree(clean_install.checkout, project, ignore=shutil.ignore_patterns(".git"))

    run(
        ["bash", "-c", download],
        cwd=project,
        env=clean_install.step_environment_for(),
        timeout=900,
        what=f"README: {download}",
    )
    wheels = sorted(path.name.lower() for path in (project / "wheels").iterdir())
    assert any(name.startswith("django-") for name in wheels), wheels
    classroom = without(clean_install.step_environment_for(), prefixes=("PIP_",))
    in_classroom = (
        f"python3 -m venv .classroom && . .classroom/bin/activate && {offline}"
        " && python manage.py check"
    )
    run(
        ["unshare", "--net", "bash", "-c", in_classroom],
        cwd=project,
        env=classroom | {"DJANGO_SECRET_KEY": "workshop-offline-not-secret"},
        timeout=900,
        what=f"README, offline: {offline}",
    )
