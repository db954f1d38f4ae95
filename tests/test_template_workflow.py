"""The template's own CI workflow: shards that together are the whole suite, a matrix
computed from the repository, one shard run as the workflow runs it, and one summary
joined from the shards' (tests/support/shards.py, tests/support/summary.py)."""

import json

import yaml

from tests.support.options import COOKIECUTTER_JSON, DEFAULTS, combination_of
from tests.support.run_record import RunRecord
from tests.support.shards import load_costs, matrix
from tests.support.stages import STAGES, scope
from tests.support.summary import main as join_summaries
from tests.support.template_workflow import (
    collected,
    copy_of_the_repository,
    load,
    outputs,
    run_job,
)

SHARDS = 4


def test_four_shards_are_disjoint_and_together_the_whole_suite():
    whole = collected()
    parts = [collected("--shard", f"{k}/{SHARDS}") for k in range(1, SHARDS + 1)]
    every = [node for part in parts for node in part]
    assert len(every) == len(set(every)), "a test is on two shards"
    assert sorted(every) == sorted(whole)
    assert all(parts), [len(part) for part in parts]
    # One combination's tests (one xdist group: one bake, one clean install) on one shard.
    shards_of = {}
    for k, part in enumerate(parts, start=1):
        for node in part:
            shards_of.setdefault(combination_of(node) or node, set()).add(k)
    assert {unit: k for unit, k in shards_of.items() if len(k) > 1} == {}


def test_the_matrix_job_computes_the_shards_from_the_repository(tmp_path):
    text, _ = run_job("shards", copy_of_the_repository(tmp_path / "repo"), {})
    computed = json.loads(outputs(text)["matrix"])
    assert computed == matrix(load_costs())
    n = len(computed["shard"])
    assert computed["shard"] == [f"{k}/{n}" for k in range(1, n + 1)]
    workflow = load()
    strategy = workflow["jobs"]["test"]["strategy"]
    assert strategy["matrix"] == "${{ fromJSON(needs.shards.outputs.matrix) }}"
    assert workflow["jobs"]["shards"]["outputs"]["matrix"] == "${{ steps.matrix.outputs.matrix }}"


def test_one_shard_runs_as_the_workflow_runs_it(tmp_path):
    """The test job's steps for the matrix's last shard, collecting instead of running
    its tests (``PYTEST_ADDOPTS``): the shard's summary is written where the next step
    uploads it from."""
    shards = matrix(load_costs())["shard"]
    repo = copy_of_the_repository(tmp_path / "repo")
    _, steps = run_job(
        "test",
        repo,
        {"matrix.shard": shards[-1]},
        extra_env={"PYTEST_ADDOPTS": "--collect-only -q"},
    )
    report = steps[-1].output
    assert f"shard {shards[-1]}" in report, report[-2000:]
    assert " tests collected (" in report and " deselected)" in report, report[-2000:]
    upload = next(
        s for s in load()["jobs"]["test"]["steps"] if "upload-artifact" in s.get("uses", "")
    )
    record = RunRecord.from_json((repo / upload["with"]["path"]).read_text())
    assert record.wall and record.cells == {}


def test_the_summary_job_fails_on_a_missing_or_failed_cell(tmp_path, capsys):
    """Two shards' records joined: every cell present and passed exits 0; a shard that
    never reported, or a failed cell, exits 1 and says which."""
    cells = {
        f"{cid}|{stage}": "passed" for stage in STAGES if stage != "soak" for cid in scope(stage)
    }
    names = sorted(cells)
    halves = [{n: cells[n] for n in names[::2]}, {n: cells[n] for n in names[1::2]}]
    paths = []
    for index, half in enumerate(halves):
        paths.append(tmp_path / f"summary-{index}.json")
        paths[-1].write_text(RunRecord(cells=half, seconds={"baked": 1.0}, wall=[1.0]).to_json())
    assert join_summaries(paths) == 0
    assert join_summaries(paths[:1]) == 1
    assert "(no shard ran it)" in capsys.readouterr().out
    half = halves[1] | {names[1]: "failed"}
    paths[1].write_text(RunRecord(cells=half, wall=[1.0]).to_json())
    assert join_summaries(paths) == 1
    assert f"failed: {names[1]}" in capsys.readouterr().out


def test_the_workflows_pin_the_same_actions_and_python(bakery):
    """The template's workflow and a baked one name each action by the same commit, and
    the Python that cookiecutter.json gives the baked projects (the test job's container
    is Debian with that Python)."""
    baked = bakery(DEFAULTS)
    baked_workflow = (baked.path / ".github" / "workflows" / "ci.yml").read_text()

    def pins(workflow):
        steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
        return {s["uses"].split("@")[0]: s["uses"].split("@")[1] for s in steps if "uses" in s}

    ours, theirs = pins(load()), pins(yaml.safe_load(baked_workflow))
    assert {a: ours[a] for a in theirs} == theirs
    versions = {
        str(s["with"]["python-version"])
        for job in load()["jobs"].values()
        for s in job["steps"]
        if s.get("uses", "").startswith("actions/setup-python@")
    }
    assert versions == {COOKIECUTTER_JSON["_python_version"]}
    container = load()["jobs"]["test"]["container"]["image"]
    assert container == f"python:{COOKIECUTTER_JSON['_python_version']}-bookworm"
