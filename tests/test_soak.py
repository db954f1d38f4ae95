"""The soak: every combination's own suite, run again and again on a busy machine.

A flaky test in a baked project fails its users' CI now and then, for nothing. This
module runs only with ``--soak N`` (``make soak`` runs 5): each combination's own test
suite runs N times in its clean install (tests/support/clean_install.py) while one busy
loop per core keeps the machine loaded (tests/support/soak.py). Every test that failed
in any run is listed by its id, with the runs it failed in; any such test fails the soak.
"""

import pytest

from tests.support.redis_server import flush_redis
from tests.support.soak import failed_tests

pytestmark = [pytest.mark.soak, pytest.mark.stage("soak")]


def test_own_suite_never_flakes(clean_install, request, tmp_path, record_property):
    runs = request.config.getoption("soak")
    env = {}
    if clean_install.bake.combination["channel_layer"] == "redis":
        env["REDIS_TEST_URL"] = request.getfixturevalue("redis_server")
    flakes, broken = {}, []
    for number in range(1, runs + 1):
        if env:
            flush_redis(env["REDIS_TEST_URL"])
        report = tmp_path / f"run-{number}.xml"
        result = clean_install.run_tests("-q", f"--junitxml={report}", **env)
        failed = failed_tests(report) if report.exists() else []
        for test in failed:
            flakes.setdefault(test, []).append(number)
        if result.returncode != 0 and not failed:
            broken.append(f"run {number}: {result.report}")
    record_property("soak", {"runs": runs, "flakes": flakes})
    assert not broken, "\n".join(broken)
    assert not flakes, "\n".join(f"{test}: failed in runs {n}" for test, n in flakes.items())
