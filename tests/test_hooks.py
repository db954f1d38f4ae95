"""The hooks, through the cookiecutter command line as a user runs it.

pre_gen_project rejects bad answers before anything is written; post_gen_project gives
every baked project its own secret key.
"""

import os
import sys
from pathlib import Path

import pytest

from tests.support.baking import tool_env
from tests.support.options import COOKIECUTTER_JSON, REPO_ROOT
from tests.support.processes import run
from tests.support.walkthrough import section, steps

PYTHON_VERSION = COOKIECUTTER_JSON["_python_version"]

REJECTED_SLUGS = [
    "my-project",  # not an identifier
    "1project",  # starts with a digit
    "MyProject",  # not lowercase
    "class",  # keyword
    "match",  # soft keyword
    "django",  # modules the project imports or runs
    "channels",
    "daphne",
    "uvicorn",
    "redis",
    "config",  # the project's own settings package
    "test",  # stdlib
    "tests",  # the project's own test folder
    "json",  # stdlib
]
REJECTED_EMAILS = ["not-an-email", "a@b", "a b@example.com"]


def secret_key(project):
    for line in (project / ".env").read_text().splitlines():
        if line.startswith("DJANGO_SECRET_KEY="):
            return line.removeprefix("DJANGO_SECRET_KEY=").strip()
    raise AssertionError(f"{project / '.env'} has no DJANGO_SECRET_KEY line")


def assert_rejected(run_cookiecutter, field, value):
    completed, output_dir = run_cookiecutter(**{field: value})
    assert completed.returncode != 0, f"{field}={value!r} was accepted; stdout:\n{completed.stdout}"
    error_lines = [line for line in completed.stderr.splitlines() if field in line]
    assert error_lines, (
        f"{field}={value!r}: no stderr line names {field}; stderr:\n{completed.stderr}"
    )
    left = sorted(p.name for p in output_dir.iterdir())
    assert not left, f"{field}={value!r}: the rejected bake left {left} behind"


@pytest.mark.parametrize("slug", REJECTED_SLUGS)
def test_rejects_bad_slug(run_cookiecutter, slug):
    assert_rejected(run_cookiecutter, "project_slug", slug)


@pytest.mark.parametrize("email", REJECTED_EMAILS)
def test_rejects_bad_email(run_cookiecutter, email):
    assert_rejected(run_cookiecutter, "author_email", email)


def assert_baked(completed, project):
    assert completed.returncode == 0, (
        f"bake failed with exit code {completed.returncode}; stderr:\n{completed.stderr}"
    )
    assert project.is_dir(), f"no project at {project}; stderr:\n{completed.stderr}"


def test_valid_custom_slug_bakes(run_cookiecutter):
    completed, output_dir = run_cookiecutter(project_slug="chat_room")
    assert_baked(completed, output_dir / "chat_room")
    package = output_dir / "chat_room" / "chat_room"
    assert package.is_dir(), f"the project package {package} is missing"


def test_slug_is_derived_from_project_name(run_cookiecutter):
    completed, output_dir = run_cookiecutter(project_name="My Chat-App")
    project = output_dir / "my_chat_app"
    baked = sorted(p.name for p in output_dir.iterdir())
    assert_baked(completed, project)
    assert baked == ["my_chat_app"], f"expected only my_chat_app/, got {baked}"


def test_each_bake_gets_its_own_secret_key(run_cookiecutter):
    first, output_dir = run_cookiecutter(project_slug="first_chat")
    second, _ = run_cookiecutter(project_slug="second_chat")
    assert_baked(first, output_dir / "first_chat")
    assert_baked(second, output_dir / "second_chat")
    keys = [secret_key(output_dir / name) for name in ("first_chat", "second_chat")]
    assert all(keys), f"empty DJANGO_SECRET_KEY in {keys}"
    assert keys[0] != keys[1], "two bakes got the same DJANGO_SECRET_KEY"


def fake_pythons(directory, **versions):
    """A PATH of programs named like Pythons that only tell their ``--version``."""
    directory.mkdir()
    for name, version in versions.items():
        program = directory / name.replace("_", ".")
        program.write_text(f'#!/bin/sh\necho "Python {version}"\n')
        program.chmod(0o755)
    return {"PATH": str(directory)}


def test_next_steps_use_a_python_that_is_new_enough(run_cookiecutter, tmp_path):
    path = fake_pythons(tmp_path / "bin", python3="3.11.2", python3_13="3.13.1")
    completed, _ = run_cookiecutter(env=path)
    assert completed.returncode == 0, completed.stderr
    assert f"python3 is Python 3.11.2; the project needs {PYTHON_VERSION}" in completed.stdout
    assert "    python3.13 -m venv .venv" in completed.stdout


def test_next_steps_say_how_to_install_python_when_none_is_new_enough(run_cookiecutter, tmp_path):
    path = fake_pythons(tmp_path / "bin", python3="3.11.2")
    completed, _ = run_cookiecutter(env=path)
    assert completed.returncode == 0, completed.stderr
    said = " ".join(completed.stdout.split())
    assert f"The project needs Python {PYTHON_VERSION} or newer" in said
    assert f"pyenv install {PYTHON_VERSION}" in said
    assert f"    python{PYTHON_VERSION} -m venv .venv" in completed.stdout


def test_a_choice_that_is_not_offered_is_refused_naming_the_choices(run_cookiecutter):
    """Cookiecutter refuses it before any hook can run (the README says so): the last
    line names the option and its choices, and nothing is written."""
    completed, output_dir = run_cookiecutter(consumers="threads")
    assert completed.returncode != 0
    last = completed.stderr.strip().splitlines()[-1]
    assert "threads provided for choice variable consumers" in last, completed.stderr
    assert str(COOKIECUTTER_JSON["consumers"]) in last
    assert sorted(output_dir.iterdir()) == []


def test_the_prompts_show_every_choice_in_full():
    """Cookiecutter prints its questions with rich, which takes [...] for markup and
    drops it (it ate "[standard]" once)."""
    prompts = COOKIECUTTER_JSON["__prompts__"]
    texts = [t for p in prompts.values() for t in (p.values() if isinstance(p, dict) else [p])]
    assert texts and not [text for text in texts if "[" in text or "]" in text]


def test_the_readme_bake_commands_run_as_written(tmp_path, cookiecutter_config):
    """The template README's "Use it" commands, run from a folder that holds a clone."""
    readme = (REPO_ROOT / "README.md").read_text()
    [commands] = [step.body for step in steps(section(readme, "Use it")) if step.kind == "sh"]
    clone = tmp_path / "cookiecutter-django-channels"
    run(["git", "clone", "--quiet", REPO_ROOT, clone])
    env = tool_env(COOKIECUTTER_CONFIG=str(cookiecutter_config))
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    for command in commands.strip().splitlines():
        run(["bash", "-c", command], cwd=tmp_path, env=env, what=command)
    baked = sorted(p.name for p in tmp_path.iterdir() if p.name != "cookiecutter-django-channels")
    assert baked == ["realtime_chat", "support_desk", "via_git"], baked
