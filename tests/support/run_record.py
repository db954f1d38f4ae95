"""What one run of the suite did, as the controller saw it in the test reports: a record
that turns into JSON and back, and joins the records of a run's shards. Standard library
only, so that the template workflow's last job can join shards with a bare Python."""

import json
from dataclasses import asdict, dataclass, field


def cost_key(report):
    """What a test's seconds count towards: its stage, or its module for a test that
    runs once per run (``tests/test_demo.py``)."""
    cell = dict(report.user_properties).get("matrix_cell")
    return cell[1] if cell else report.nodeid.split("::")[0]


@dataclass
class RunRecord:
    """What one run (or one shard of it) did: JSON-able, and joinable with other shards'."""

    # "combination id|stage" -> "passed" | "failed" | "skipped"
    cells: dict = field(default_factory=dict)
    # stage or module -> seconds its tests took on the workers (set-up and teardown
    # included: a bake counts towards the first test that needs it)
    seconds: dict = field(default_factory=dict)
    # stage or module -> of those seconds, the set-up's: fixtures such as a bake, a clean
    # install or a deployment, which count towards the first test that needs them
    setup: dict = field(default_factory=dict)
    # stage or module -> how many tests ran
    tests: dict = field(default_factory=dict)
    # endpoint -> frames fuzzed by the baked projects' own suites, all combinations
    fuzzed: dict = field(default_factory=dict)
    # [combination id, name, value]: what live tests measured (``Live.record``)
    measured: list = field(default_factory=list)
    # combination id -> {"notes", "timings"} of its clean install
    installs: dict = field(default_factory=dict)
    # combination id -> {"runs", "flakes"}: what the soak saw
    soaked: dict = field(default_factory=dict)
    # combination id -> the xdist workers that ran its tests (should be one each)
    workers: dict = field(default_factory=dict)
    # pytest wall time of each run joined here
    wall: list = field(default_factory=list)
    fast: bool = False

    def add(self, report):
        properties = dict(report.user_properties)
        key = cost_key(report)
        self.seconds[key] = self.seconds.get(key, 0.0) + report.duration
        if report.when == "setup":
            self.setup[key] = self.setup.get(key, 0.0) + report.duration
        if report.when == "call":
            self.tests[key] = self.tests.get(key, 0) + 1
            for endpoint, frames in properties.get("fuzzed_frames", {}).items():
                self.fuzzed[endpoint] = self.fuzzed.get(endpoint, 0) + frames
        cell = properties.get("matrix_cell")
        if cell is None:
            return
        cid, stage = cell
        if "clean_install" in properties:
            self.installs[cid] = properties["clean_install"]
        if "soak" in properties:
            self.soaked[cid] = properties["soak"]
        if report.when == "call":
            self.measured += [
                [cid, *value] for key, value in report.user_properties if key == "measured"
            ]
        gateway = getattr(getattr(report, "node", None), "gateway", None)
        if gateway is not None and gateway.id not in self.workers.setdefault(cid, []):
            self.workers[cid].append(gateway.id)
        name = f"{cid}|{stage}"
        if report.failed:
            self.cells[name] = "failed"
        elif report.when == "call" and report.passed:
            self.cells.setdefault(name, "passed")
        elif report.skipped:
            self.cells.setdefault(name, "skipped")

    def join(self, other):
        """This record with ``other``'s results added: the shards of one run."""
        for name, value in other.cells.items():
            if value == "failed" or name not in self.cells:
                self.cells[name] = value
        for mine, theirs in (
            (self.seconds, other.seconds),
            (self.tests, other.tests),
            (self.fuzzed, other.fuzzed),
            (self.setup, other.setup),
        ):
            for key, value in theirs.items():
                mine[key] = mine.get(key, 0) + value
        self.measured += other.measured
        self.installs |= other.installs
        self.soaked |= other.soaked
        for cid, workers in other.workers.items():
            self.workers[cid] = self.workers.get(cid, []) + workers
        self.wall += other.wall
        self.fast = self.fast or other.fast
        return self

    def cell(self, cid, stage):
        return self.cells.get(f"{cid}|{stage}", "-")

    def to_json(self):
        return json.dumps(asdict(self), indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text):
        return cls(**json.loads(text))
