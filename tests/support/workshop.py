"""The workshop kit (workshop=exercises), as its stage checks it: the stubs, the answer
key, the test report and the progress table.

A stub is a variant file of the ``workshop`` option (``VARIANTS`` in the post-generation
hook); its ``workshop=none`` twin is the answer. Each stub raises
``NotImplementedError("Exercise N: ...")``; the baked project marks the tests of each
exercise and reports them in pytest's JUnit XML with the property ``exercise``.
"""

import re
import shutil
from dataclasses import dataclass
from xml.etree import ElementTree

from tests.support.options import POST_GEN

STUB = re.compile(r"Exercise (\d+): ")
PROGRESS_ROW = re.compile(r"^\s*(\d+)  (.+?)\s+(done|not yet)$", flags=re.MULTILINE)


def stub_files(slug):
    """The project's files that differ between the exercises and the answer key."""
    return [path.format(slug=slug) for path in POST_GEN.VARIANTS["workshop"]]


def exercise_numbers(project, slug):
    """The exercises that the stubs of a baked project name."""
    return {
        int(number)
        for path in stub_files(slug)
        for number in STUB.findall((project / path).read_text())
    }


def copy_answer_key(answers, project, slug):
    for path in stub_files(slug):
        shutil.copyfile(answers / path, project / path)


@dataclass
class Record:
    exercise: int | None
    passed: bool
    text: str  # failures, errors and what the test logged


def junit_records(junit_xml):
    """test id -> :class:`Record`, from a JUnit XML report (a test that also failed
    on teardown is one record)."""
    records = {}
    for case in ElementTree.parse(junit_xml).iter("testcase"):
        test = f"{case.get('classname')}::{case.get('name')}"
        record = records.setdefault(test, Record(None, True, ""))
        number = case.find("properties/property[@name='exercise']")
        if number is not None:
            record.exercise = int(number.get("value"))
        if any(case.find(tag) is not None for tag in ("failure", "error", "skipped")):
            record.passed = False
        record.text += "\n".join(f"{e.get('message', '')}\n{e.text or ''}" for e in case)
    return records


def progress_rows(output):
    """exercise number -> "done" or "not yet", from ``manage.py workshop``'s table."""
    return {int(number): status for number, _, status in PROGRESS_ROW.findall(output)}
