"""The template's options and their combinations, all derived from ``cookiecutter.json``.

The hooks' own functions decide what a choice option is (``hooks/post_gen_project.py``) and
which combinations cannot go together (``hooks/pre_gen_project.py``), so that the test
suite bakes exactly what a user can bake.
"""

import functools
import importlib.util
import itertools
import json
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
COOKIECUTTER_JSON = json.loads((REPO_ROOT / "cookiecutter.json").read_text())


def load_hook(name):
    """A hook of the template as a module: its functions run unrendered; only running
    it as a script needs what cookiecutter renders into it."""
    path = REPO_ROOT / "hooks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"template_hooks.{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PRE_GEN = load_hook("pre_gen_project")
POST_GEN = load_hook("post_gen_project")

# option -> its choices, the default first.
CHOICE_OPTIONS = POST_GEN.choice_options(COOKIECUTTER_JSON)
DEFAULTS = {option: choices[0] for option, choices in CHOICE_OPTIONS.items()}


def combinations(choice_options=CHOICE_OPTIONS, error=PRE_GEN.combination_error):
    """Every combination of choices that the pre-generation hook accepts, defaults first."""
    every = (
        dict(zip(choice_options, values)) for values in itertools.product(*choice_options.values())
    )
    return [combination for combination in every if error(combination) is None]


def choice_pairs(combination, over=None):
    """The pairs of (option, choice) that a combination holds, one per two options (of
    ``over`` only, when given; of one option, its choice alone)."""
    items = [item for item in combination.items() if over is None or item[0] in over]
    if len(items) == 1:
        return {(items[0],)}
    return set(itertools.combinations(items, 2))


def pairwise_covering(candidates, over=None):
    """A small subset of ``candidates`` that holds every pair of choices of two options
    (of ``over``, when given) that any candidate holds.

    Greedy: take the candidate that holds the most pairs not yet held, the first one on
    a tie (so the defaults come first), until every pair is held. With n options of two
    choices each that is about log2(n) + 3 combinations instead of 2**n.
    """
    uncovered = set().union(*(choice_pairs(c, over) for c in candidates))
    chosen = []
    while uncovered:
        best = max(candidates, key=lambda c: len(choice_pairs(c, over) & uncovered))
        chosen.append(best)
        uncovered -= choice_pairs(best, over)
    return chosen


def combination_id(combination):
    """Readable id such as ``async-session-in_memory-daphne``."""
    return "-".join(combination[option] for option in CHOICE_OPTIONS)


def combination_of(nodeid):
    """The combination id among a test's parameters, or None: what xdist groups it by."""
    if nodeid.endswith("]"):
        params = f"-{nodeid.rpartition('[')[2].removesuffix(']')}-"
        for cid in COMBINATION_IDS:
            if f"-{cid}-" in params:
                return cid
    return None


@functools.cache
def covering(over=None, holding=None, unfinished=False):
    """The ids of a pairwise covering set, over the options ``over`` (all, when None), of
    the combinations that hold ``holding``, an (option, choice) pair (all, when None):
    for a stage whose code paths those options decide. Complete combinations only, but
    for a stage about an unfinished choice or one that takes ``unfinished`` ones too."""
    pool = COMBINATIONS if unfinished or holding in UNFINISHED else COMPLETE
    if holding is not None:
        pool = [c for c in pool if c[holding[0]] == holding[1]]
    return tuple(combination_id(c) for c in pairwise_covering(pool, over))


def is_complete(combination):
    return not combination.items() & UNFINISHED


def complete_twin(combination):
    """The same choices, but each unfinished one at its option's default: the bake whose
    files are an unfinished bake's answer key."""
    return combination | {option: DEFAULTS[option] for option, _ in UNFINISHED}


# Choices that bake a project unfinished on purpose: workshop=exercises leaves stubs whose
# tests fail until a learner writes them. Such a bake gets the static stages (it must
# lint, check and deploy like any other), but not those that run the project's suite or
# serve it: those run on the complete combinations, and the "workshop" stage proves the
# unfinished ones fail exactly as designed. So an option like this one doubles only the
# cheap stages: the complete combinations are those there were before it.
UNFINISHED = {("workshop", "exercises")}

COMBINATIONS = combinations()
COMBINATION_IDS = [combination_id(c) for c in COMBINATIONS]
COMPLETE = [c for c in COMBINATIONS if is_complete(c)]
COMPLETE_IDS = [combination_id(c) for c in COMPLETE]
COVERING = [combination_id(c) for c in pairwise_covering(COMPLETE)]
