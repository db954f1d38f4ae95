"""The summary matrix: one row per combination, one column per stage, with the minutes each
stage cost. The controller collects a :class:`~tests.support.run_record.RunRecord` from the
test reports and prints it at the end of the run (tests/support/summary.py);
``--summary-json`` also writes it, so that the shards of a run can be joined into one
matrix (``python -m tests.support.summary``).
"""

import time

import pytest

from tests.support import summary
from tests.support.run_record import RunRecord


class StageMatrix:
    """The controller's plugin: collects the run's :class:`RunRecord`, prints it."""

    def __init__(self, config):
        self.config = config
        self.started = time.perf_counter()
        self.record = RunRecord(fast=bool(config.getoption("fast")))

    def pytest_runtest_logreport(self, report):
        self.record.add(report)

    def split_combinations(self):
        """Combinations whose tests ran on several workers, so baked several times,
        although ``--dist loadgroup`` asked for one worker per combination."""
        if self.config.getvalue("dist") != "loadgroup":
            return {}
        return {cid: w for cid, w in self.record.workers.items() if len(w) > 1}

    def pytest_sessionfinish(self, session):
        if self.split_combinations() and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter):
        self.record.wall.append(round(time.perf_counter() - self.started, 1))
        if path := self.config.getoption("summary_json"):
            with open(path, "w") as handle:
                handle.write(self.record.to_json())
        summary.write(self.record, terminalreporter.write_line, terminalreporter.section)
        for cid, workers in sorted(self.split_combinations().items()):
            terminalreporter.write_line(
                f"{cid} ran on {', '.join(sorted(workers))}, so it was baked more "
                "than once: --dist loadgroup did not keep it on one worker",
                red=True,
            )
