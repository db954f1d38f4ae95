"""Every combination bakes into a clean project that passes its own checks.

Each test fills one stage of the summary matrix. The bake happens once per combination
(tests/support/baking.py); each tool runs in the baked project, with the baked project
as its working directory so that its own configuration applies. These are the fast
stages: they run in the template's own environment, which holds every package a baked
project pins (tests/test_dependencies.py).
"""

import sys
from pathlib import Path

import pytest

from tests.support.baked_files import env_values, leftovers, unresolved_variants
from tests.support.baking import tool_env
from tests.support.processes import run

RUFF = Path(sys.executable).parent / "ruff"


def run_in(baked, *command):
    __tracebackhide__ = True
    return run(command, cwd=baked.path, env=tool_env())


@pytest.mark.stage("baked")
def test_bakes(bake, combination):
    assert bake.exit_code == 0 and bake.exception is None, (
        f"{bake.id} failed to bake (exit code {bake.exit_code}): {bake.exception!r}"
    )
    assert bake.path.is_dir(), f"{bake.id}: no project directory at {bake.path}"
    assert bake.files, f"{bake.id}: the baked project at {bake.path} has no files"


@pytest.mark.stage("baked")
def test_variant_files_resolved(baked):
    found = unresolved_variants(baked.files, baked.path.name, baked.combination)
    assert not found, f"{baked.id}: variant files not resolved:\n" + "\n".join(found)


@pytest.mark.stage("baked")
def test_env_has_a_secret_key(baked):
    assert ".env" in baked.files, f"{baked.id}: the post-gen hook wrote no .env"
    secret = env_values(baked.files[".env"].decode()).get("DJANGO_SECRET_KEY")
    assert secret, f"{baked.id}: .env has no non-empty DJANGO_SECRET_KEY"


@pytest.mark.stage("no leftovers")
def test_no_unrendered_template_syntax(baked):
    found = leftovers(baked.files)
    assert not found, f"{baked.id}: rendering leftovers:\n" + "\n".join(found)


@pytest.mark.stage("ruff check")
def test_ruff_check(baked):
    run_in(baked, RUFF, "check", "--no-cache", "--output-format", "concise", ".")


@pytest.mark.stage("ruff format")
def test_ruff_format(baked):
    run_in(baked, RUFF, "format", "--check", "--no-cache", ".")


@pytest.mark.stage("manage.py check")
def test_manage_py_check(baked):
    run_in(baked, sys.executable, "manage.py", "check", "--fail-level", "WARNING")


@pytest.mark.stage("migrations")
def test_no_missing_migrations(baked):
    run_in(baked, sys.executable, "manage.py", "makemigrations", "--check", "--dry-run")
