"""How far the workshop got, read from a run of the exercises' tests: each test carries
its exercise's number as a property in pytest's JUnit XML report."""

import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from {{ cookiecutter.project_slug }}.workshop.exercises import EXERCISES

# The exercises' tests only, quietly, leaving no cache behind; the report keeps what
# they logged, as a stub that fails inside a consumer says so in the log.
PYTEST_ARGS = ("-m", "exercise", "-q", "-p", "no:cacheprovider", "-o", "junit_logging=all")
STUB_MESSAGE = re.compile(r"Exercise \d+: [^\n]*?see docs/workshop\.md#exercise-\d+")


def run_exercise_tests(project_dir):
    """Run the tests marked ``exercise``; returns ``(pytest's exit code, its output,
    {exercise number: [(test id, failure message or None)]})``."""
    # manage.py set the settings of the running server; pytest takes its own from
    # pyproject.toml, which an inherited DJANGO_SETTINGS_MODULE would override.
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.xml"
        completed = subprocess.run(
            [sys.executable, "-m", "pytest", *PYTEST_ARGS, f"--junitxml={report}"],
            cwd=project_dir,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        results = read_report(report) if report.exists() else {}
    return completed.returncode, completed.stdout + completed.stderr, results


def read_report(path):
    """{exercise number: [(test id, why it did not pass, or None)]}: why is a stub's own
    message where the test's record holds one, else the failure's."""
    results = {}
    for case in ElementTree.parse(path).iter("testcase"):
        number = case.find("properties/property[@name='exercise']")
        if number is None:
            continue
        problems = [case.find(tag) for tag in ("failure", "error", "skipped")]
        problem = next((found for found in problems if found is not None), None)
        message = None
        if problem is not None:
            record = "\n".join(f"{e.get('message', '')}\n{e.text or ''}" for e in case)
            stub = STUB_MESSAGE.search(record)
            message = stub[0] if stub else problem.get("message") or problem.tag
        test = f"{case.get('classname')}::{case.get('name')}"
        results.setdefault(int(number.get("value")), []).append((test, message))
    return results


def is_done(results, number):
    return bool(results.get(number)) and all(message is None for _, message in results[number])


def first_hint(docs, number):
    """The first-level hint of an exercise, from its section of docs/workshop.md."""
    section = re.search(
        rf"^## Exercise {number}\n(.*?)(?=^## |\Z)", docs, flags=re.MULTILINE | re.DOTALL
    )
    hint = section and re.search(r"^\*\*Hint 1\.\*\* (.+)$", section[1], flags=re.MULTILINE)
    return hint[1] if hint else None


def table(results, docs):
    """The progress table, then what to do next."""
    width = max(len(exercise.title) for exercise in EXERCISES)
    lines = [f"{'#':>2}  {'Exercise':<{width}}  Status", f"{'':->2}  {'':-<{width}}  {'':-<7}"]
    for exercise in EXERCISES:
        status = "done" if is_done(results, exercise.number) else "not yet"
        lines.append(f"{exercise.number:>2}  {exercise.title:<{width}}  {status}")
    pending = [e for e in EXERCISES if not is_done(results, e.number)]
    lines.append("")
    if not pending:
        lines.append(f"All {len(EXERCISES)} exercises done.")
        return "\n".join(lines)
    upcoming = pending[0]
    lines.append(f"Next: exercise {upcoming.number}, {upcoming.title}.")
    # A test that waits for a frame may fail on the wait; the stub's own message says more.
    failures = sorted(
        (message for _, message in results.get(upcoming.number, []) if message),
        key=lambda message: not message.startswith(f"Exercise {upcoming.number}:"),
    )
    if failures:
        lines.append(f"Its tests say: {failures[0].splitlines()[0]}")
    hint = first_hint(docs, upcoming.number)
    if hint:
        lines.append(f"Hint: {hint}")
    lines.append(f"More: {upcoming.anchor}")
    return "\n".join(lines)
