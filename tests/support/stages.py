"""The stages of the summary matrix: one column each, and the combinations each runs on.

A per-combination test names its stage with ``@pytest.mark.stage(...)``; this table
decides its combinations, so a new option or choice needs no edit in any test. Cheap,
static stages run every combination; the stages that run the project's suite or serve
it need a complete project, and run every complete combination or the pairwise covering
set of those (see UNFINISHED in options.py); a stage about what one choice adds, the
pairwise covering set of the combinations that hold that choice, named by an (option,
choice) pair.
"""

from tests.support.options import (
    COMBINATION_IDS,
    COMPLETE_IDS,
    COVERING,
    DEFAULTS,
    combination_id,
    covering_with,
)

EVERY = "every combination"
EVERY_COMPLETE = "every complete combination"
COVERING_SET = "the covering set"
BENCH_SET = "the covering set and the fastest combination"
# The benchmark's targets are about async consumers on Uvicorn with the in-memory layer.
FASTEST = combination_id(
    DEFAULTS | {"consumers": "async", "channel_layer": "in_memory", "server": "uvicorn"}
)

# stage -> (what `make test` runs it on, what `make test-fast` runs it on: None, not at
# all), in the matrix's column order.
STAGES = {
    "baked": (EVERY, EVERY),
    "no leftovers": (EVERY, EVERY),
    "ruff check": (EVERY, EVERY),
    "ruff format": (EVERY, EVERY),
    "manage.py check": (EVERY, EVERY),
    "migrations": (EVERY, EVERY),
    "pins": (EVERY, EVERY),
    "deploy check": (EVERY, EVERY),
    "compose": (EVERY, EVERY),
    "nginx": (EVERY, EVERY),
    "kubernetes": (EVERY, EVERY),
    "workflow": (EVERY, EVERY),
    # zizmor's offline audit of the baked workflows: nothing of medium severity or above.
    "zizmor": (EVERY, EVERY),
    "docs": (EVERY, EVERY),
    # The project as a user installs it: its own CI workflow in a clean install.
    "own tests": (EVERY_COMPLETE, COVERING_SET),
    "fuzz": (COVERING_SET, None),
    "walkthrough": (COVERING_SET, None),
    "readme": (COVERING_SET, None),
    "postgres": (COVERING_SET, None),
    "live": (COVERING_SET, None),
    "faults": (COVERING_SET, None),
    "browser": (COVERING_SET, None),
    # The Celery worker and its jobs, live: only the combinations that have a worker.
    "jobs": (("tasks", "celery"), None),
    # Redis Sentinel's failover, live: only the combinations that use Redis.
    "sentinel": (("channel_layer", "redis"), None),
    # A server stopped with SIGTERM hands its clients over to the other: two processes,
    # so only the combinations that use Redis.
    "drain": (("channel_layer", "redis"), None),
    # docs/scaling.md's worked example (two processes and Redis), run as written.
    "scaling guide": (("channel_layer", "redis"), None),
    # The benchmark run small; `make bench` runs it alone with real counts.
    "bench": (BENCH_SET, None),
    # The workshop kit: its exercises' tests fail, each with its own message, the rest
    # pass, and the answer key (the workshop=none files) makes them all pass.
    "workshop": (("workshop", "exercises"), None),
    # Only with --soak, which runs nothing else.
    "soak": (EVERY_COMPLETE, None),
}

IDS = {
    EVERY: COMBINATION_IDS,
    EVERY_COMPLETE: COMPLETE_IDS,
    COVERING_SET: COVERING,
    BENCH_SET: COVERING + [FASTEST] * (FASTEST not in COVERING),
}
# (option, choice) -> the covering set of the combinations with that choice.
IDS |= {
    runs: covering_with(*runs)
    for runs in {runs for both in STAGES.values() for runs in both if isinstance(runs, tuple)}
}


def describe(which):
    """What a set of STAGES is, for the run's summary."""
    if isinstance(which, tuple):
        return f"the pairwise covering set of the combinations with {which[0]}={which[1]}"
    return which


def scope(stage, fast=False):
    """The combination ids a stage runs on (none under ``fast`` for a slow stage)."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}: add it to STAGES in {__name__}")
    which = STAGES[stage][1 if fast else 0]
    return IDS[which] if which else []


def covering_stages(fast=False):
    """The stages that run on the covering set only."""
    return [stage for stage, runs in STAGES.items() if runs[1 if fast else 0] == COVERING_SET]


def choice_stages(fast=False):
    """stage -> its (option, choice) set, for the stages that run on one."""
    which = {stage: runs[1 if fast else 0] for stage, runs in STAGES.items()}
    return {stage: runs for stage, runs in which.items() if isinstance(runs, tuple)}
