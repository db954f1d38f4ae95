"""Every combination of options bakes into a clean project that passes its own checks.

Each test is one stage of the summary matrix. The bake happens once per combination
(see ``bakery`` in conftest.py); each tool runs in the baked project as a subprocess,
with the baked project as its working directory so that its own configuration applies.
"""

import os
import re
import subprocess
import sys
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath

import pytest
import redis
from django.template import defaulttags, loader_tags
from django.templatetags import cache, i18n, l10n, static, tz

from tests.support.options import COVERING
from tests.support.processes import run, tail

RUFF = Path(sys.executable).parent / "ruff"
TOOL_TIMEOUT = 120
OWN_TESTS_TIMEOUT = 900

# Options whose files exist once per choice in the template, as "<stem>_<choice>.<ext>".
VARIANT_OPTIONS = ("consumers", "auth")

# Every tag Django itself ships (builtins and the contrib libraries a template may
# {% load %}), their end tags, and the intermediate tags of block tags.
DJANGO_TAG_LIBRARIES = (defaulttags, loader_tags, i18n, static, l10n, tz, cache)
DJANGO_TAGS = {name for lib in DJANGO_TAG_LIBRARIES for name in lib.register.tags}
DJANGO_TAGS |= {f"end{name}" for name in DJANGO_TAGS}
DJANGO_TAGS |= {"else", "elif", "empty", "plural"}

TEMPLATE_TAG = re.compile(r"\{%-?\s*(\w+)")
JINJA_WHITESPACE_CONTROL = re.compile(r"\{[%{#]-|-[%}#]\}")
GITHUB_EXPRESSION = re.compile(r"\$\{\{")
TEMPLATE_SYNTAX = ("{{", "{%", "{#")


# --- helpers ----------------------------------------------------------------------


def project_env(redis_url=None):
    """The environment a baked project's tools run in: this one, minus the variables of
    the outer pytest run and of any project, plus REDIS_URL when given."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PYTEST_")
        and key not in {"DJANGO_SETTINGS_MODULE", "REDIS_URL"}
    }
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def run_in(project, *command, timeout=TOOL_TIMEOUT, redis_url=None):
    """Run ``command`` in ``project``; return (exit code, stdout and stderr)."""
    __tracebackhide__ = True
    shown = " ".join(map(str, command))
    try:
        completed = subprocess.run(
            [str(part) for part in command],
            check=False,
            cwd=project,
            env=project_env(redis_url),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as error:
        output = (error.stdout or b"") + (error.stderr or b"")
        if isinstance(output, bytes):
            output = output.decode(errors="replace")
        pytest.fail(
            f"`{shown}` timed out after {timeout} s in {project}; "
            f"output tail:\n{tail(output)}",
            pytrace=False,
        )
    return completed.returncode, completed.stdout + completed.stderr


def assert_succeeds(project, *command, timeout=TOOL_TIMEOUT, redis_url=None):
    """Fail the test, with the tail of the output, unless ``command`` exits 0."""
    __tracebackhide__ = True
    code, output = run_in(project, *command, timeout=timeout, redis_url=redis_url)
    if code != 0:
        pytest.fail(
            f"`{' '.join(map(str, command))}` exited {code} in {project}; "
            f"output tail:\n{tail(output)}",
            pytrace=False,
        )


def is_django_template(path):
    path = PurePosixPath(path)
    return path.suffix == ".html" and "templates" in path.parts[:-1]


def is_github_workflow(path):
    return fnmatch(path, ".github/workflows/*.yml") or fnmatch(
        path, ".github/workflows/*.yaml"
    )


def leftovers_in_line(path, line):
    """What in one line of a baked file looks like an unrendered template leftover."""
    problems = []
    if "cookiecutter." in line:
        problems.append("mentions 'cookiecutter.'")
    if is_django_template(path):
        if "cookiecutter" in line.lower() and not problems:
            problems.append("mentions cookiecutter")
        if JINJA_WHITESPACE_CONTROL.search(line):
            problems.append("Jinja whitespace control ({%- or -%})")
        for tag in TEMPLATE_TAG.findall(line):
            if tag not in DJANGO_TAGS:
                problems.append(f"{{% {tag} %}} is not a Django tag")
        return problems
    checked = GITHUB_EXPRESSION.sub("", line) if is_github_workflow(path) else line
    problems += [f"contains {s!r}" for s in TEMPLATE_SYNTAX if s in checked]
    return problems


def leftovers(files):
    """'path:line: problem: text' for every leftover in a baked project's files."""
    found = []
    for path, content in files.items():
        if any(s in path for s in (*TEMPLATE_SYNTAX, "cookiecutter")):
            found.append(f"{path}: unrendered file name")
        try:
            text = content.decode()
        except UnicodeDecodeError:
            continue  # binary, e.g. an image
        for number, line in enumerate(text.splitlines(), start=1):
            for problem in leftovers_in_line(path, line):
                found.append(f"{path}:{number}: {problem}: {line.strip()[:120]}")
    return found


def unresolved_variants(paths, choice_options):
    """Files the post-gen hook should have renamed or deleted.

    A name ``<stem>_<choice>.<ext>`` is left over when ``<choice>`` belongs to an option
    whose files come in variants, or when a sibling from another choice of the same
    option (or the plain ``<stem>.<ext>``) is there too.
    """
    present = set(paths)
    found = []
    for path in sorted(present):
        pure = PurePosixPath(path)
        for option, choices in choice_options.items():
            for choice in choices:
                suffix = f"_{choice}"
                if not pure.stem.endswith(suffix):
                    continue
                stem = pure.stem.removesuffix(suffix)
                siblings = {pure.with_name(f"{stem}{pure.suffix}").as_posix()}
                siblings |= {
                    pure.with_name(f"{stem}_{other}{pure.suffix}").as_posix()
                    for other in choices
                    if other != choice
                }
                if option in VARIANT_OPTIONS or siblings & present:
                    found.append(f"{path} (a {option}={choice} variant)")
    return found


def env_values(text):
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip().strip("'\"")
    return values


# --- stages -----------------------------------------------------------------------


@pytest.mark.stage("baked")
def test_bakes(bake, combination):
    assert bake.exit_code == 0 and bake.exception is None, (
        f"{bake.id} failed to bake (exit code {bake.exit_code}): {bake.exception!r}"
    )
    assert bake.path.is_dir(), f"{bake.id}: no project directory at {bake.path}"
    assert bake.files, f"{bake.id}: the baked project at {bake.path} has no files"


@pytest.mark.stage("baked")
def test_variant_files_resolved(baked, choice_options):
    found = unresolved_variants(baked.files, choice_options)
    assert not found, f"{baked.id}: variant files left over:\n" + "\n".join(found)


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
    assert_succeeds(
        baked.path, RUFF, "check", "--no-cache", "--output-format", "concise", "."
    )


@pytest.mark.stage("ruff format")
def test_ruff_format(baked):
    assert_succeeds(baked.path, RUFF, "format", "--check", "--no-cache", ".")


@pytest.mark.stage("manage.py check")
def test_manage_py_check(baked):
    assert_succeeds(
        baked.path, sys.executable, "manage.py", "check", "--fail-level", "WARNING"
    )


@pytest.mark.stage("migrations")
def test_no_missing_migrations(baked):
    assert_succeeds(
        baked.path,
        sys.executable,
        "manage.py",
        "makemigrations",
        "--check",
        "--dry-run",
    )


def flush_redis(url):
    """Empty the database of ``url`` only: live deployments use another one."""
    client = redis.Redis.from_url(url, socket_timeout=10)
    try:
        client.flushdb()
    finally:
        client.close()


@pytest.mark.stage("own tests")
def test_own_workflow_passes_in_a_clean_install(clean_install, record_property):
    """The baked CI workflow, every step in order, in a fresh clone of the project with
    a fresh virtual environment filled from its own requirement files (see
    tests/support/clean_install.py): install, lint, Django checks and its own tests."""
    record_property(
        "clean_install",
        {"notes": clean_install.notes, "timings": clean_install.timings},
    )
    failure = clean_install.failure()
    if failure:
        pytest.fail(failure, pytrace=False)
    steps = [step for step in clean_install.job["steps"] if "run" in step]
    assert len(clean_install.results) == len(steps)


@pytest.mark.stage("fuzz")
@pytest.mark.combinations(*COVERING)
def test_fuzz_tests_at_full_strength(clean_install, request, record_property):
    """The baked fuzz tests with thousands of frames per endpoint, in the clean install."""
    extra = {}
    if clean_install.bake.combination["channel_layer"] == "redis":
        extra["REDIS_URL"] = request.getfixturevalue("redis_server")
        flush_redis(extra["REDIS_URL"])  # no groups or messages of another combination
    result = run(
        [
            clean_install.python,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "tests/test_fuzz.py",
        ]
        + ["--hypothesis-profile=fuzz", "--hypothesis-show-statistics"],
        cwd=clean_install.checkout,
        env=clean_install.step_environment_for(**extra),
        timeout=OWN_TESTS_TIMEOUT,
        check=False,
    )
    bake_id = clean_install.bake.id
    assert result.returncode == 0, (
        f"{bake_id}: fuzz tests failed:\n{tail(result.output)}"
    )
    fuzzed = fuzzed_frames(result.output)
    assert set(fuzzed) == FUZZED_ENDPOINTS, f"{bake_id}: fuzz tests ran: {fuzzed}"
    assert min(fuzzed.values()) >= MIN_FUZZED_FRAMES, f"{bake_id}: too few: {fuzzed}"
    record_property("fuzzed_frames", fuzzed)


FUZZED_ENDPOINTS = {"echo", "chat", "notifications"}
MIN_FUZZED_FRAMES = 2000
FUZZ_TEST = re.compile(r"tests/test_fuzz\.py::test_(\w+)_fuzz:")
PASSING_EXAMPLES = re.compile(r"(\d+) passing(?: examples)?,")


def fuzzed_frames(output):
    """endpoint -> frames fuzzed, from hypothesis' statistics (one block per test)."""
    fuzzed = {}
    endpoint = None
    for line in output.splitlines():
        if match := FUZZ_TEST.search(line):
            endpoint = match[1]
        elif endpoint and (match := PASSING_EXAMPLES.search(line)):
            fuzzed[endpoint] = fuzzed.get(endpoint, 0) + int(match[1])
    return fuzzed
