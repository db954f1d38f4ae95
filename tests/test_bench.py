"""The benchmark (``make bench``), run small: every project of the covering set and the
bare ASGI ceiling, measured by the project's own load tool, yield numbers.

The figures themselves are not checked here: a shared, busy machine would make any bound
flaky. ``make bench`` runs the same code with real counts, one project at a time, and
prints the table with each figure's ratio to the ceiling's (tests/support/bench.py).
"""

import pytest

from tests.support.bench import SCENARIOS


@pytest.mark.stage("bench")
def test_the_load_tool_measures_the_project_and_the_ceiling(
    combination, clean_install, bench, request
):
    redis_url = None
    if combination["channel_layer"] == "redis":
        # A database of its own: live deployments use 1, baked suites 0.
        redis_url = request.getfixturevalue("redis_server").removesuffix("/0") + "/2"
    ceiling = bench.measure_ceiling(clean_install) if combination["server"] == "uvicorn" else None
    row = bench.measure_project(clean_install, redis_url)

    for figures in filter(None, [row, ceiling and ceiling[1]]):
        assert set(figures) == set(SCENARIOS)
        assert all(isinstance(value, int | float) for value in figures.values()), figures
        assert figures["fan-out deliveries/s"] > 0 and figures["echo round trips/s"] > 0
