"""The soak: every combination's own suite, run again and again on a busy machine.

A flaky test in a baked project fails its users' CI now and then, for nothing. This
module runs only with ``--soak N`` (``make soak`` runs 5): each combination's own test
suite runs N times in its clean install (see tests/support/clean_install.py) while one
busy loop per core keeps the machine loaded. Every test that failed in any run is
listed by its id, with the runs it failed in; any such test fails the soak.
"""

import pytest

from tests.support.processes import run, tail
from tests.support.soak import failed_tests
from tests.test_baked_projects import OWN_TESTS_TIMEOUT, flush_redis

pytestmark = pytest.mark.soak


@pytest.mark.stage("soak")
def test_own_suite_never_flakes(clean_install, request, tmp_path, record_property):
    runs = request.config.getoption("soak")
    extra = {}
    if clean_install.bake.combination["channel_layer"] == "redis":
        extra["REDIS_URL"] = request.getfixturevalue("redis_server")
    flakes, broken = {}, []
    for number in range(1, runs + 1):
        if "REDIS_URL" in extra:
            flush_redis(extra["REDIS_URL"])
        report = tmp_path / f"run-{number}.xml"
        result = run(
            [clean_install.python, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
            + [f"--junitxml={report}"],
            cwd=clean_install.checkout,
            env=clean_install.step_environment_for(**extra),
            timeout=OWN_TESTS_TIMEOUT,
            check=False,
        )
        failed = failed_tests(report) if report.exists() else []
        for test in failed:
            flakes.setdefault(test, []).append(number)
        if result.returncode != 0 and not failed:
            broken.append(
                f"run {number} exited {result.returncode}:\n{tail(result.output)}"
            )
    record_property("soak", {"runs": runs, "flakes": flakes})
    assert not broken, "\n".join(broken)
    assert not flakes, "\n".join(
        f"{test}: failed in runs {n}" for test, n in flakes.items()
    )
