"""The soak's tools: a machine kept busy, and the failures that a JUnit report lists."""

import os
import subprocess
import sys
import xml.etree.ElementTree as ET

BUSY_LOOP = "while True: pass"


class BusyMachine:
    """One busy loop per core for as long as the test run lasts: a pytest plugin of the
    controller, so that xdist's workers share it."""

    def __init__(self):
        self.loops = []

    def pytest_sessionstart(self, session):
        for _ in range(os.cpu_count() or 1):
            self.loops.append(subprocess.Popen([sys.executable, "-c", BUSY_LOOP]))

    def pytest_sessionfinish(self, session):
        for loop in self.loops:
            loop.kill()
            loop.wait()

    def pytest_report_header(self, config):
        return f"soak: {os.cpu_count()} busy loops keep every core busy"


def failed_tests(junit_xml):
    """The ids (``tests/test_chat.py::test_name[param]``) of the tests that failed or
    errored in a JUnit XML report."""
    failed = []
    for case in ET.parse(junit_xml).iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            path = case.get("classname", "").replace(".", "/") + ".py"
            failed.append(f"{path}::{case.get('name')}")
    return failed
