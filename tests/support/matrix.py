"""The summary matrix: one row per combination, one column per stage, printed by the
controller at the end of the run, with what the stages measured under it."""

import json
import time

import pytest

from tests.support.options import COMBINATION_IDS, COVERING
from tests.support.stages import STAGES, choice_stages, covering_stages, describe, scope


class StageMatrix:
    """Collects per-combination results on the controller and prints the matrix."""

    def __init__(self, config):
        self.config = config
        self.started = time.perf_counter()
        # (combination id, stage) -> "passed" | "failed"
        self.cells = {}
        # combination id -> the xdist workers that ran its tests (should be one)
        self.workers = {}
        # endpoint -> frames fuzzed by the baked projects' own suites, all combinations
        self.fuzzed = {}
        # (combination id, name, value): what live tests measured (``Live.record``)
        self.measured = []
        # combination id -> {"notes", "timings"} of its clean install
        self.installs = {}
        # combination id -> {"runs", "flakes"}: what the soak saw
        self.soaked = {}

    def pytest_runtest_logreport(self, report):
        properties = dict(report.user_properties)
        fuzzed = properties.get("fuzzed_frames", {}) if report.when == "call" else {}
        for endpoint, frames in fuzzed.items():
            self.fuzzed[endpoint] = self.fuzzed.get(endpoint, 0) + frames
        cell = properties.get("matrix_cell")
        if cell is None:
            return
        cell = tuple(cell)
        if "clean_install" in properties:
            self.installs[cell[0]] = properties["clean_install"]
        if "soak" in properties:
            self.soaked[cell[0]] = properties["soak"]
        if report.when == "call":
            for key, value in report.user_properties:
                if key == "measured":
                    self.measured.append((cell[0], *value))
        gateway = getattr(getattr(report, "node", None), "gateway", None)
        if gateway is not None:
            self.workers.setdefault(cell[0], set()).add(gateway.id)
        if report.failed:
            self.cells[cell] = "failed"
        elif report.when == "call" and report.passed:
            self.cells.setdefault(cell, "passed")
        elif report.skipped:
            self.cells.setdefault(cell, "skipped")

    def split_combinations(self):
        """Combinations whose tests ran on several workers, so baked several times,
        although ``--dist loadgroup`` asked for one worker per combination."""
        if self.config.getvalue("dist") != "loadgroup":
            return {}
        return {cid: w for cid, w in self.workers.items() if len(w) > 1}

    def pytest_sessionfinish(self, session):
        if self.split_combinations() and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def write_installs(self, write):
        """One line per clean install: what its set-up and its workflow's steps took."""
        set_ups = []
        for cid, install in sorted(self.installs.items()):
            timings = install["timings"]
            steps = timings.get("steps", {})
            # The set-up: a fresh environment, then the README's and workflow's install.
            set_up = timings.get("venv", 0) + timings.get("install", 0)
            set_ups.append(set_up)
            shown = ", ".join(f"{name} {s:.1f} s" for name, s in steps.items())
            write(
                f"{cid}  clean install: venv {timings.get('venv', 0):.1f} s, {shown}; "
                f"workflow {timings.get('workflow', 0):.1f} s; " + "; ".join(install["notes"])
            )
        set_ups.sort()
        write(
            f"clean install set-up (venv and pip install), median of {len(set_ups)}: "
            f"{set_ups[len(set_ups) // 2]:.1f} s, longest {set_ups[-1]:.1f} s"
        )

    def write_soak(self, write):
        """Every test that failed in a soak run, by combination and test id."""
        runs = sum(soak["runs"] for soak in self.soaked.values())
        flakes = [
            (cid, test, numbers)
            for cid, soak in sorted(self.soaked.items())
            for test, numbers in sorted(soak["flakes"].items())
        ]
        write(
            f"soak: {len(flakes)} flaky tests in {runs} runs of the own suites of "
            f"{len(self.soaked)} combinations, every core busy",
            bold=True,
            green=not flakes,
            red=bool(flakes),
        )
        for cid, test, numbers in flakes:
            write(
                f"{cid}  {test}: failed in runs {', '.join(map(str, numbers))}",
                red=True,
            )

    def pytest_terminal_summary(self, terminalreporter):
        elapsed = time.perf_counter() - self.started
        rows = [cid for cid in COMBINATION_IDS if any(c[0] == cid for c in self.cells)]
        if not rows:
            return
        seen = sorted({stage for _, stage in self.cells} - set(STAGES))
        # Only the columns of stages that ran (a run may select a few tests).
        stages = [s for s in [*STAGES, *seen] if any(c[1] == s for c in self.cells)]
        write = terminalreporter.write_line
        terminalreporter.section("baked combinations")
        first = max(len("combination"), *(len(cid) for cid in rows))
        widths = [max(len(stage), len("passed")) for stage in stages]
        header = ["combination".ljust(first)]
        header += [stage.ljust(w) for stage, w in zip(stages, widths)]
        write("  ".join(header).rstrip())
        ran = [stage for stage in stages if any(c[1] == stage for c in self.cells)]
        passed_all = 0
        for cid in rows:
            values = [self.cells.get((cid, stage), "-") for stage in stages]
            # Some stages run on a few combinations only ("-" elsewhere).
            passed_all += all(value in ("passed", "-") for value in values)
            cells = [cid.ljust(first)]
            cells += [value.ljust(w) for value, w in zip(values, widths)]
            write("  ".join(cells).rstrip())
        which = (
            "every stage" if len(ran) == len(stages) else f"every stage that ran ({', '.join(ran)})"
        )
        write(
            f"{passed_all}/{len(rows)} combinations passed {which} (wall time {elapsed:.1f} s)",
            bold=True,
            green=passed_all == len(rows),
            red=passed_all != len(rows),
        )
        covered = [s for s in covering_stages(self.config.getoption("fast")) if s in ran]
        if covered:
            write(
                f"{', '.join(covered)} ran on the pairwise covering set, every pair of "
                f"choices of two options at least once: {', '.join(COVERING)}"
            )
        fast = self.config.getoption("fast")
        for stage, which in choice_stages(fast).items():
            if stage in ran:
                write(f"{stage} ran on {describe(which)}: {', '.join(scope(stage, fast))}")
        if self.fuzzed:
            counts = ", ".join(f"{e} {n}" for e, n in sorted(self.fuzzed.items()))
            write(f"fuzzed client frames per endpoint, all combinations: {counts}")
        if self.installs:
            self.write_installs(write)
        if self.soaked:
            self.write_soak(write)
        if self.measured:
            terminalreporter.section("measured live")
            for cid, name, value in sorted(self.measured, key=lambda m: m[:2]):
                write(f"{cid}  {name}: {json.dumps(value)}")
        for cid, workers in sorted(self.split_combinations().items()):
            write(
                f"{cid} ran on {', '.join(sorted(workers))}, so it was baked more "
                "than once: --dist loadgroup did not keep it on one worker",
                red=True,
            )
