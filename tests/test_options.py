"""cookiecutter.json is the only list of options and choices, and the template follows it.

The hooks take the choices from cookiecutter.json as cookiecutter read it, at bake time;
the post-generation hook's tables name every variant file; a choice that the template
does not handle stops the bake, loudly, and leaves nothing behind; the slow stages run a
pairwise covering set computed from the options.
"""

import itertools
import json
import re
import shutil

import pytest

from tests.support.options import (
    CHOICE_OPTIONS,
    COMBINATIONS,
    COMPLETE,
    COVERING,
    POST_GEN,
    PRE_GEN,
    REPO_ROOT,
    UNFINISHED,
    choice_pairs,
    combination_id,
    combinations,
    complete_twin,
    is_complete,
    pairwise_covering,
)
from tests.support.stages import STAGES, covering_stages, scope

PROJECT = REPO_ROOT / "{{cookiecutter.project_slug}}"
# A branch of a Jinja conditional that a choice the template does not know could fall
# into: an else, or a test that is not "is this choice".
CATCH_ALL = re.compile(r"\{%-?\s*(else\b|(el)?if\s+not\b|(el)?if\b[^%]*!=)")


def template_path(path):
    """Where the template keeps a path of the hook's tables ("{slug}/...")."""
    return PROJECT / str(path).replace("{slug}", "{{cookiecutter.project_slug}}")


def all_variants():
    """(option, choice, path) of every variant file the post-generation hook knows."""
    return [
        (option, choice, str(POST_GEN.variant_path(path, choice)))
        for option, paths in POST_GEN.VARIANTS.items()
        for path in paths
        for choice in CHOICE_OPTIONS[option]
    ]


# --- the hooks' tables ---------------------------------------------------------------


def test_every_variant_exists_for_every_choice():
    missing = [
        f"{path} ({option}={choice})"
        for option, choice, path in all_variants()
        if not template_path(path).is_file()
    ]
    assert not missing, "variant files missing from the template:\n" + "\n".join(missing)


def test_every_file_named_after_a_choice_is_in_the_hooks_table():
    """A file named ``<stem>_<choice><suffix>`` is a variant that the post-generation
    hook must know, or it would be baked as it is, beside the others."""
    suffixes = tuple(f"_{choice}" for choices in CHOICE_OPTIONS.values() for choice in choices)
    known = {path for _, _, path in all_variants()}
    named = [
        path.relative_to(PROJECT).as_posix().replace("{{cookiecutter.project_slug}}", "{slug}")
        for path in PROJECT.rglob("*")
        if path.is_file() and path.stem.endswith(suffixes)
    ]
    unknown = sorted(set(named) - known)
    assert not unknown, "variant files the hook does not know:\n" + "\n".join(unknown)


def test_the_hooks_tables_name_real_options_choices_and_files():
    assert set(POST_GEN.VARIANTS) <= set(CHOICE_OPTIONS)
    for (option, choice), paths in POST_GEN.ONLY_FOR.items():
        assert choice in CHOICE_OPTIONS.get(option, []), (option, choice)
        for path in paths:
            assert template_path(path).exists(), path


# --- a choice the template does not handle -------------------------------------------


@pytest.mark.parametrize("option", CHOICE_OPTIONS)
def test_a_choice_without_its_files_stops_the_bake(option, run_cookiecutter, tmp_path):
    """A copy of the template whose cookiecutter.json offers one more choice, with no
    files for it: baking that choice fails, names the option and the file, and leaves
    no project behind."""
    template = tmp_path / "template"
    shutil.copytree(REPO_ROOT / "hooks", template / "hooks")
    shutil.copytree(PROJECT, template / PROJECT.name)
    config = json.loads((REPO_ROOT / "cookiecutter.json").read_text())
    config[option].append("unheard_of")
    (template / "cookiecutter.json").write_text(json.dumps(config))
    completed, output_dir = run_cookiecutter(template=template, **{option: "unheard_of"})
    assert completed.returncode != 0, completed.stdout
    assert f"the template has no {option}=unheard_of variant of" in completed.stderr, (
        completed.stderr
    )
    assert sorted(output_dir.iterdir()) == []


def test_no_template_branch_catches_an_unknown_choice():
    """Every branch of an option-dependent conditional names its choice: no
    ``{% else %}``, no ``if not``, no ``!=``, so a new choice cannot fall into another
    choice's branch (the post-generation hook stops such a bake anyway)."""
    copied = json.loads((REPO_ROOT / "cookiecutter.json").read_text())["_copy_without_render"]
    rendered = [
        path
        for path in [REPO_ROOT / "hooks" / "post_gen_project.py", *PROJECT.rglob("*")]
        if path.is_file() and not any(path.match(pattern) for pattern in copied)
    ]
    found = [
        f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()}"
        for path in rendered
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if CATCH_ALL.search(line)
    ]
    assert not found, "catch-all branches:\n" + "\n".join(found)


# --- the combinations ------------------------------------------------------------------


def test_combinations_are_every_product_of_the_choices_the_hook_accepts():
    every = [
        dict(zip(CHOICE_OPTIONS, values)) for values in itertools.product(*CHOICE_OPTIONS.values())
    ]
    refused = [c for c in every if PRE_GEN.combination_error(c)]
    assert refused  # tasks=celery with channel_layer=in_memory
    assert all(c["tasks"] == "celery" and c["channel_layer"] == "in_memory" for c in refused)
    assert COMBINATIONS == [c for c in every if c not in refused]
    assert COMBINATIONS[0] == {option: choices[0] for option, choices in CHOICE_OPTIONS.items()}


def test_a_refused_pair_of_choices_stops_the_bake_before_anything_is_written(run_cookiecutter):
    completed, output_dir = run_cookiecutter(tasks="celery", channel_layer="in_memory")
    assert completed.returncode != 0, completed.stdout
    assert "ERROR: tasks=celery needs channel_layer=redis" in completed.stderr, completed.stderr
    assert "not channel_layer=in_memory" in completed.stderr
    assert sorted(output_dir.iterdir()) == []


def test_a_rule_between_options_leaves_its_combinations_out():
    """The pre-generation hook's rule refuses a pair of choices, naming both options;
    the test suite's combinations leave out exactly what it refuses."""
    options = {"worker": ["none", "celery"], "layer": ["memory", "redis"]}
    requires = {("worker", "celery"): ("layer", ["redis"], "a worker is another process")}
    refused = {"worker": "celery", "layer": "memory"}
    error = PRE_GEN.combination_error(refused, requires)
    assert "worker=celery needs layer=redis" in error and "not layer=memory" in error
    kept = combinations(options, lambda c: PRE_GEN.combination_error(c, requires))
    assert refused not in kept and len(kept) == 3


def test_the_covering_set_holds_every_pair_of_choices_of_the_complete_combinations():
    covering = [c for c in COMPLETE if combination_id(c) in COVERING]
    assert len(covering) == len(COVERING)
    every_pair = set().union(*(choice_pairs(c) for c in COMPLETE))
    assert set().union(*(choice_pairs(c) for c in covering)) == every_pair
    assert len(covering) < len(COMPLETE)
    assert COVERING[0] == combination_id(COMBINATIONS[0])  # the defaults


def test_unfinished_bakes_get_the_static_stages_and_no_stage_that_runs_the_suite():
    """workshop=exercises fails its own tests by design: of the stages that run on every
    combination, only the static ones take it; every other stage but the one about it
    runs on complete combinations only."""
    assert UNFINISHED, "no unfinished choice: drop this test and UNFINISHED"
    unfinished = {combination_id(c) for c in COMBINATIONS if not is_complete(c)}
    assert unfinished and len(COMPLETE) + len(unfinished) == len(COMBINATIONS)
    for stage, runs in STAGES.items():
        ids = set(scope(stage)) | set(scope(stage, fast=True))
        if getattr(runs[0], "holding", None) in UNFINISHED:
            assert ids <= unfinished, stage
        elif runs[0] != "every combination":
            assert not ids & unfinished, stage
    assert set(scope("ruff check")) >= unfinished
    for combination in COMBINATIONS:
        assert is_complete(complete_twin(combination))


def test_a_slow_stage_covers_the_options_its_scenario_goes_through():
    """Each stage on a covering set (jobs: tasks=celery, over consumers, auth and
    server): only combinations with its choice, and every pair of choices of its options
    (every choice, for one option) that those combinations hold."""
    stages = covering_stages()
    assert stages, "no stage runs on a covering set"
    for stage, which in stages.items():
        pool = COMBINATIONS if which.holding in UNFINISHED else COMPLETE
        if which.holding:
            pool = [c for c in pool if c[which.holding[0]] == which.holding[1]]
        chosen = [c for c in pool if combination_id(c) in scope(stage)]
        assert len(chosen) == len(scope(stage)), (stage, scope(stage))
        every_pair = set().union(*(choice_pairs(c, which.over) for c in pool))
        assert set().union(*(choice_pairs(c, which.over) for c in chosen)) == every_pair, stage
        assert which.why in which.describe()


def test_the_covering_set_stays_small_as_options_grow():
    """Six options of two choices: 64 combinations, of which the covering set takes a
    handful; adding an option adds a combination or two, it does not double them."""
    for count, at_most in ((4, 6), (6, 8), (8, 9)):
        options = {f"option{n}": ["a", "b"] for n in range(count)}
        every = combinations(options, lambda combination: None)
        covering = pairwise_covering(every)
        assert set().union(*(choice_pairs(c) for c in covering)) == set().union(
            *(choice_pairs(c) for c in every)
        )
        assert len(covering) <= at_most, (count, len(covering))
