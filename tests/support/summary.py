"""The run's summary, printed from a :class:`~tests.support.matrix.RunRecord`: the matrix of
combinations and stages, which sets the slow stages ran on, the minutes each stage cost,
the clean installs, the soak and what live tests measured.

Run as a program it joins the records that the shards of one run wrote with
``--summary-json`` into one summary (the template workflow's last job)::

    python -m tests.support.summary shard-1.json shard-2.json ...
"""

import json
import sys
from pathlib import Path

from tests.support.options import COMBINATION_IDS
from tests.support.run_record import RunRecord
from tests.support.stages import STAGES, covering_stages, describe, scope


def write(record, line, section):
    """Every part of the summary that ``record`` has something for."""
    rows = [cid for cid in COMBINATION_IDS if any(n.startswith(f"{cid}|") for n in record.cells)]
    if rows:
        section("baked combinations")
        write_matrix(record, rows, line)
        write_sets(record, line)
    if record.fuzzed:
        counts = ", ".join(f"{e} {n}" for e, n in sorted(record.fuzzed.items()))
        line(f"fuzzed client frames per endpoint, all combinations: {counts}")
    if record.installs:
        write_installs(record, line)
    if record.soaked:
        write_soak(record, line)
    if record.seconds:
        section("minutes per stage")
        write_minutes(record, line)
    if record.measured:
        section("measured live")
        for cid, name, value in sorted(record.measured, key=lambda m: m[:2]):
            line(f"{cid}  {name}: {json.dumps(value)}")


def stages_run(record):
    """The matrix's columns: the stages that ran, in STAGES' order."""
    ran = {name.split("|")[1] for name in record.cells}
    return [stage for stage in [*STAGES, *sorted(ran - set(STAGES))] if stage in ran]


def write_matrix(record, rows, line):
    stages = stages_run(record)
    first = max(len("combination"), *(len(cid) for cid in rows))
    widths = [max(len(stage), len("passed")) for stage in stages]
    header = ["combination".ljust(first), *(s.ljust(w) for s, w in zip(stages, widths))]
    line("  ".join(header).rstrip())
    passed_all = 0
    for cid in rows:
        values = [record.cell(cid, stage) for stage in stages]
        # Some stages run on a few combinations only ("-" elsewhere).
        passed_all += all(value in ("passed", "-") for value in values)
        cells = [cid.ljust(first), *(v.ljust(w) for v, w in zip(values, widths))]
        line("  ".join(cells).rstrip())
    line(
        f"{passed_all}/{len(rows)} combinations passed every stage that ran "
        f"(wall time {' + '.join(f'{w:.1f}' for w in record.wall) or '?'} s)",
        bold=True,
        green=passed_all == len(rows),
        red=passed_all != len(rows),
    )


def write_sets(record, line):
    """Which combinations the slow stages ran on, and why those."""
    ran = stages_run(record)
    for stage, which in covering_stages(record.fast).items():
        if stage in ran:
            line(f"{stage} ran on {describe(which)}: {', '.join(scope(stage, record.fast))}")


def write_minutes(record, line):
    """Where the minutes went: each stage's (or once-per-run module's) worker time."""
    total = sum(record.seconds.values()) or 1.0
    order = [*STAGES, *sorted(set(record.seconds) - set(STAGES))]
    keys = [key for key in order if key in record.seconds]
    width = max(len("stage or module"), *(len(key) for key in keys))
    line(f"{'stage or module'.ljust(width)}  combinations  tests  minutes  set-up  share")
    for key in keys:
        combinations = len({n.split("|")[0] for n in record.cells if n.endswith(f"|{key}")})
        line(
            f"{key.ljust(width)}  {combinations or '':>12}  {record.tests.get(key, 0):>5}  "
            f"{record.seconds[key] / 60:>7.1f}  {record.setup.get(key, 0) / 60:>6.1f}  "
            f"{record.seconds[key] / total:>5.0%}"
        )
    walls = " + ".join(f"{w / 60:.1f}" for w in record.wall)
    line(
        f"{'all'.ljust(width)}  {'':>12}  {sum(record.tests.values()):>5}  {total / 60:>7.1f}  "
        f"{sum(record.setup.values()) / 60:>6.1f}  worker minutes (set-up: bakes, clean installs "
        f"and deployments, counted in the stage of the first test that needs them); "
        f"wall {walls} min",
        bold=True,
    )


def write_installs(record, line):
    """One line per clean install: what its set-up and its workflow's steps took."""
    set_ups = []
    for cid, install in sorted(record.installs.items()):
        timings = install["timings"]
        steps = ", ".join(f"{name} {s:.1f} s" for name, s in timings.get("steps", {}).items())
        # The set-up: a fresh environment, then the README's and workflow's install.
        set_ups.append(timings.get("venv", 0) + timings.get("install", 0))
        line(
            f"{cid}  clean install: venv {timings.get('venv', 0):.1f} s, {steps}; "
            f"workflow {timings.get('workflow', 0):.1f} s; " + "; ".join(install["notes"])
        )
    set_ups.sort()
    line(
        f"clean install set-up (venv and pip install), median of {len(set_ups)}: "
        f"{set_ups[len(set_ups) // 2]:.1f} s, longest {set_ups[-1]:.1f} s"
    )


def write_soak(record, line):
    """Every test that failed in a soak run, by combination and test id."""
    runs = sum(soak["runs"] for soak in record.soaked.values())
    flakes = [
        (cid, test, numbers)
        for cid, soak in sorted(record.soaked.items())
        for test, numbers in sorted(soak["flakes"].items())
    ]
    line(
        f"soak: {len(flakes)} flaky tests in {runs} runs of the own suites of "
        f"{len(record.soaked)} combinations, every core busy",
        bold=True,
        green=not flakes,
        red=bool(flakes),
    )
    for cid, test, numbers in flakes:
        line(f"{cid}  {test}: failed in runs {', '.join(map(str, numbers))}", red=True)


def main(paths):
    """Join the shards' records; exit 1 when a cell failed or a combination is missing
    from the joined matrix (a shard that never reported)."""
    records = [RunRecord.from_json(Path(path).read_text()) for path in paths]
    joined = records[0]
    for record in records[1:]:
        joined.join(record)

    def line(text, **markup):
        print(text)

    write(joined, line, lambda title: print(f"{'=' * 20} {title} {'=' * 20}"))
    failed = sorted(name for name, value in joined.cells.items() if value == "failed")
    # Every cell the stage table gives a whole run (the soak runs only on its own).
    expected = {
        f"{cid}|{stage}" for stage in STAGES if stage != "soak" for cid in scope(stage, joined.fast)
    }
    missing = sorted(expected - set(joined.cells))
    for name in failed:
        print(f"failed: {name}")
    for name in missing:
        print(f"missing: {name} (no shard ran it)")
    return 1 if failed or missing else 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python -m tests.support.summary SHARD.json [SHARD.json ...]")
    sys.exit(main(sys.argv[1:]))
