"""Shards: the suite cut into N disjoint parts of about equal cost, for N machines.

``pytest --shard K/N`` (``make test SHARD=K/N``) keeps the K-th of N parts of what the run
would otherwise run. The unit is an xdist group: every test of one combination (so its
bake and its clean install) lands on one shard, and a test that runs once per run is a
unit of its own. Units are dealt out longest first, each to the shard with the least cost
so far, by the costs in ``stage_seconds.json`` beside this file, measured by a whole run.
The same code runs on the controller and on every xdist worker, so they agree.

Run as a program it prints the template workflow's shard matrix, from the same costs and
the stage table (tests/support/stages.py), with nothing but Python's standard library::

    python3 -m tests.support.shards                       # {"shard": ["1/3", "2/3", "3/3"]}
    python3 -m tests.support.shards --costs-from run.json # rewrite stage_seconds.json
"""

import argparse
import json
import math
from pathlib import Path

from tests.support.options import combination_of
from tests.support.stages import STAGES, scope

COSTS_FILE = Path(__file__).with_name("stage_seconds.json")
# What a shard should take on a two-core runner, in wall-clock seconds.
SHARD_SECONDS = 10 * 60
RUNNER_CORES = 2
# The cost of a stage or module that no measurement knows yet.
UNKNOWN_SECONDS = 5.0


def parse_shard(text):
    """``"2/4"`` -> (2, 4); a clear error for anything else."""
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise ValueError(f"--shard takes K/N, such as 2/4, not {text!r}") from None
    if not 1 <= k <= n:
        raise ValueError(f"--shard {text}: K must be between 1 and N")
    return k, n


def load_costs():
    return json.loads(COSTS_FILE.read_text())


def unit_of(item):
    """An item's xdist group, as the scheduler finds it: its combination id, or its own
    node id."""
    return combination_of(item.nodeid) or item.nodeid


def unit_costs(items, costs):
    """unit -> estimated seconds: each stage once per combination, each once-per-run
    test by its module."""
    stages, modules = costs["stages"], costs["modules"]
    counted, totals = set(), {}
    for item in items:
        unit, stage = unit_of(item), item.get_closest_marker("stage")
        if stage is None:
            seconds = modules.get(item.nodeid.split("::")[0], UNKNOWN_SECONDS)
        elif (unit, stage.args[0]) in counted:
            seconds = 0.0
        else:
            counted.add((unit, stage.args[0]))
            seconds = stages.get(stage.args[0], UNKNOWN_SECONDS)
        totals[unit] = totals.get(unit, 0.0) + seconds
    return totals


def deal(costs_by_unit, n):
    """unit -> shard number (1..n): longest first, each to the least loaded shard; ties
    by name, so every process deals the same."""
    loads = [0.0] * n
    shard_of = {}
    for unit, seconds in sorted(costs_by_unit.items(), key=lambda u: (-u[1], u[0])):
        index = min(range(n), key=lambda i: (loads[i], i))
        loads[index] += seconds
        shard_of[unit] = index + 1
    return shard_of


def select(items, k, n, costs=None):
    """(kept, deselected): the items of shard ``k`` of ``n``, in their order."""
    shard_of = deal(unit_costs(items, costs or load_costs()), n)
    kept = [item for item in items if shard_of[unit_of(item)] == k]
    return kept, [item for item in items if shard_of[unit_of(item)] != k]


def estimated_seconds(costs, fast=False):
    """What a whole run costs in worker seconds, from the stage table alone."""
    stages = sum(
        costs["stages"].get(stage, UNKNOWN_SECONDS) * len(scope(stage, fast))
        for stage in STAGES
        if stage != "soak"
    )
    return stages + (0 if fast else sum(costs["modules"].values()))


def matrix(costs):
    """The template workflow's matrix: enough shards for SHARD_SECONDS each."""
    n = max(1, math.ceil(estimated_seconds(costs) / (SHARD_SECONDS * RUNNER_CORES)))
    return {"shard": [f"{k}/{n}" for k in range(1, n + 1)]}


def costs_from(record):
    """The costs a run measured: seconds per combination of each stage, per test of each
    once-per-run module."""
    combinations = {}
    for name in record["cells"]:
        cid, stage = name.split("|")
        combinations.setdefault(stage, set()).add(cid)
    stages = {
        stage: round(seconds / len(combinations[stage]), 1)
        for stage, seconds in record["seconds"].items()
        if stage in combinations
    }
    modules = {
        key: round(seconds / record["tests"][key], 1)
        for key, seconds in record["seconds"].items()
        if key not in combinations and record["tests"].get(key)
    }
    return {
        "about": "Seconds of worker time: per combination for a stage, per test for a "
        "module. Written by `python3 -m tests.support.shards --costs-from RUN.json` from a "
        "whole run's --summary-json; only the shards' balance depends on them.",
        "stages": dict(sorted(stages.items())),
        "modules": dict(sorted(modules.items())),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--costs-from", metavar="RUN.json", help="a whole run's --summary-json")
    args = parser.parse_args()
    if args.costs_from:
        record = json.loads(Path(args.costs_from).read_text())
        COSTS_FILE.write_text(json.dumps(costs_from(record), indent=1) + "\n")
        print(f"wrote {COSTS_FILE}")
    else:
        print(json.dumps(matrix(load_costs())))


if __name__ == "__main__":
    main()
