"""Baking: each combination once per worker, through pytest-cookies."""

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.options import REPO_ROOT, combination_id
from tests.support.processes import without


@dataclass
class Bake:
    combination: dict
    id: str
    exit_code: int
    exception: BaseException | None
    path: Path | None
    # Relative path -> content, read right after baking, before any test runs a tool
    # in the project (which may add caches or bytecode).
    files: dict = field(repr=False)


def snapshot(project_path):
    return {
        path.relative_to(project_path).as_posix(): path.read_bytes()
        for path in sorted(project_path.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="session")
def template_dir():
    return REPO_ROOT


@pytest.fixture(scope="session")
def bakery(cookies_session, template_dir):
    """Bake each combination at most once per worker; later calls reuse the bake."""
    bakes = {}

    def bake(combination):
        cid = combination_id(combination)
        if cid not in bakes:
            result = cookies_session.bake(extra_context=combination, template=str(template_dir))
            path = result.project_path if result.exit_code == 0 else None
            bakes[cid] = Bake(
                combination=combination,
                id=cid,
                exit_code=result.exit_code,
                exception=result.exception,
                path=path,
                files=snapshot(path) if path and path.is_dir() else {},
            )
        return bakes[cid]

    return bake


@pytest.fixture
def bake(bakery, combination):
    """The (possibly failed) bake of this test's combination."""
    return bakery(combination)


@pytest.fixture
def baked(bake):
    """The bake of this test's combination; fails the test if it did not bake."""
    if bake.exit_code != 0 or bake.path is None:
        pytest.fail(
            f"{bake.id} did not bake (exit code {bake.exit_code}): "
            f"{bake.exception!r}; see its 'baked' test",
            pytrace=False,
        )
    return bake


def tool_env(**extra):
    """The environment of a tool run in a baked project from this environment: this
    one, without the variables of the outer pytest run and of any project."""
    env = without(os.environ, "DJANGO_SETTINGS_MODULE", "REDIS_URL", prefixes=["PYTEST_"])
    return env | {"PYTHONDONTWRITEBYTECODE": "1"} | extra
