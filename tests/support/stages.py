"""The stages of the summary matrix: one column each, and the combinations each runs on.

A per-combination test names its stage with ``@pytest.mark.stage(...)``; this table
decides its combinations, so a new option or choice needs no edit in any test. Cheap,
static stages run every combination. The own CI workflow runs every complete
combination (see UNFINISHED in options.py). A stage that serves the project or runs a
scenario is slow: it runs on a pairwise covering set, computed from ``cookiecutter.json``,
over the options whose code its scenario goes through (every option, for the stages
that prove the whole project live), among the combinations that hold the choice it is
about. So its cost grows with the covering set of those options, not with the product.
"""

from dataclasses import dataclass

from tests.support.options import (
    CHOICE_OPTIONS,
    COMBINATION_IDS,
    COMPLETE_IDS,
    DEFAULTS,
    combination_id,
    covering,
)

EVERY = "every combination"
EVERY_COMPLETE = "every complete combination"
DEFAULT = "the default combination"


@dataclass(frozen=True)
class Covering:
    """A pairwise covering set: every pair of choices of the options ``over`` (every
    choice, for one option; all options when None) at least once, among the
    combinations that hold ``holding`` (an (option, choice) pair), for the reason ``why``."""

    why: str
    over: tuple | None = None
    holding: tuple | None = None
    # Also this combination (the benchmark's targets are about it).
    also: str | None = None
    # Unfinished combinations too (a static stage's).
    unfinished: bool = False

    def ids(self):
        chosen = list(covering(self.over, self.holding, self.unfinished))
        return chosen + [self.also] * (self.also is not None and self.also not in chosen)

    def short(self):
        """The docs' name of the set (docs/testing.md's table of stages)."""
        over = f"over {', '.join(self.over)}" if self.over else "over every option"
        where = f", of {'='.join(self.holding)}" if self.holding else ""
        also = f", and {self.also}" if self.also else ""
        unfinished = ", workshop starters too" if self.unfinished else ""
        return f"covering {over}{where}{also}{unfinished}"

    def describe(self):
        options = ", ".join(self.over or CHOICE_OPTIONS)
        where = f" of the combinations with {'='.join(self.holding)}" if self.holding else ""
        also = f", and {self.also}" if self.also else ""
        return f"the pairwise covering set over {options}{where}{also} ({self.why})"


# The benchmark's targets are about async consumers on Uvicorn with the in-memory layer.
FASTEST = combination_id(
    DEFAULTS | {"consumers": "async", "channel_layer": "in_memory", "server": "uvicorn"}
)
WHOLE = Covering("the whole project")
# `make test-fast`'s static stages: every pair of choices, unfinished bakes included.
STATIC = Covering("every pair of choices, workshop starters included", unfinished=True)

# stage -> (what `make test` runs it on, what `make test-fast` runs it on: None, not at
# all), in the matrix's column order. `make test-fast` is the few minutes' check before a
# commit: the static stages on the covering set, the default project's own workflow.
STAGES = {
    "baked": (EVERY, STATIC),
    "no leftovers": (EVERY, STATIC),
    "ruff check": (EVERY, STATIC),
    "ruff format": (EVERY, STATIC),
    "manage.py check": (EVERY, STATIC),
    "migrations": (EVERY, STATIC),
    "pins": (EVERY, STATIC),
    "deploy check": (EVERY, STATIC),
    "compose": (EVERY, STATIC),
    "nginx": (EVERY, STATIC),
    "kubernetes": (EVERY, STATIC),
    "workflow": (EVERY, STATIC),
    # zizmor's offline audit of the baked workflows: nothing of medium severity or above.
    "zizmor": (EVERY, STATIC),
    "docs": (EVERY, STATIC),
    # The project as a user installs it: its own CI workflow in a clean install.
    "own tests": (EVERY_COMPLETE, DEFAULT),
    "fuzz": (
        Covering(
            "frames reach the consumers through auth and the layer",
            over=("consumers", "auth", "channel_layer"),
        ),
        None,
    ),
    "walkthrough": (
        Covering(
            "the README's new endpoint is a consumer with its tests' sign-in",
            over=("consumers", "auth"),
        ),
        None,
    ),
    "readme": (
        Covering(
            "the README's set-up and run command differ by server",
            over=("server",),
            holding=("channel_layer", "in_memory"),
        ),
        None,
    ),
    "postgres": (
        Covering(
            "the ORM is reached from both consumer styles, the token table and jobs",
            over=("consumers", "auth", "tasks"),
        ),
        None,
    ),
    "live": (WHOLE, None),
    "faults": (WHOLE, None),
    "browser": (WHOLE, None),
    # The Celery worker and its jobs, live: only the combinations that have a worker.
    "jobs": (
        Covering(
            "jobs report through either consumer style, to either sign-in, on either server",
            over=("consumers", "auth", "server"),
            holding=("tasks", "celery"),
        ),
        None,
    ),
    # Redis Sentinel's failover, live: only the combinations that use Redis.
    "sentinel": (
        Covering(
            "the layer, the presence store and the broker reconnect through "
            "either consumer style and server",
            over=("consumers", "server", "tasks"),
            holding=("channel_layer", "redis"),
        ),
        None,
    ),
    # A server stopped with SIGTERM hands its clients over to the other: two processes,
    # so only the combinations that use Redis.
    "drain": (
        Covering(
            "each server stops each consumer style its own way",
            over=("consumers", "server"),
            holding=("channel_layer", "redis"),
        ),
        None,
    ),
    # docs/scaling.md's worked example (two processes and Redis), run as written.
    "scaling guide": (
        Covering(
            "the guide's commands differ by server",
            over=("server",),
            holding=("channel_layer", "redis"),
        ),
        None,
    ),
    # The benchmark run small; `make bench` runs it alone with real counts.
    "bench": (
        Covering(
            "the load tool meets each consumer style, layer and server",
            over=("consumers", "channel_layer", "server"),
            also=FASTEST,
        ),
        None,
    ),
    # The workshop kit: its exercises' tests fail, each with its own message, the rest
    # pass, and the answer key (the workshop=none files) makes them all pass.
    "workshop": (
        Covering(
            "the stubs are the same files in every starter; the consumer style calls them",
            over=("consumers",),
            holding=("workshop", "exercises"),
        ),
        None,
    ),
    # Only with --soak, which runs nothing else.
    "soak": (EVERY_COMPLETE, None),
}

IDS = {EVERY: COMBINATION_IDS, EVERY_COMPLETE: COMPLETE_IDS, DEFAULT: COMBINATION_IDS[:1]}


def ids_of(which):
    return which.ids() if isinstance(which, Covering) else IDS[which]


def describe(which):
    """What a set of STAGES is, for the run's summary."""
    return which.describe() if isinstance(which, Covering) else which


def short(which):
    """What a set of STAGES is, in docs/testing.md's table of stages."""
    if isinstance(which, Covering):
        return which.short()
    return {EVERY: "every", EVERY_COMPLETE: "every complete", DEFAULT: "the default"}[which]


def scope(stage, fast=False):
    """The combination ids a stage runs on (none under ``fast`` for a slow stage)."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}: add it to STAGES in {__name__}")
    which = STAGES[stage][1 if fast else 0]
    return ids_of(which) if which else []


def covering_stages(fast=False):
    """stage -> its covering set, for the stages that run on one."""
    which = {stage: runs[1 if fast else 0] for stage, runs in STAGES.items()}
    return {stage: runs for stage, runs in which.items() if isinstance(runs, Covering)}
