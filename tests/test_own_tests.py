"""Every combination passes its own tests as its users install it.

The "own tests" stage runs the baked project's own CI workflow, every step in order, in
a fresh clone of the project with a fresh virtual environment filled only from its own
requirement files (tests/support/clean_install.py): install, lint, Django's checks and
its test suite. The "fuzz" stage runs its fuzz tests at full strength in the same
install, on the covering set.
"""

import re

import pytest

from tests.support.redis_server import flush_redis

FUZZED_ENDPOINTS = {"echo", "chat", "notifications"}
MIN_FUZZED_FRAMES = 2000
FUZZ_TEST = re.compile(r"tests/test_fuzz\.py::test_(\w+)_fuzz:")
PASSING_EXAMPLES = re.compile(r"(\d+) passing(?: examples)?,")


@pytest.mark.stage("own tests")
def test_own_workflow_passes_in_a_clean_install(clean_install, record_property):
    record_property(
        "clean_install",
        {"notes": clean_install.notes, "timings": clean_install.timings},
    )
    failure = clean_install.failure()
    if failure:
        pytest.fail(failure, pytrace=False)
    steps = [step for step in clean_install.job["steps"] if "run" in step]
    assert len(clean_install.results) == len(steps)


def fuzzed_frames(output):
    """endpoint -> frames fuzzed, from hypothesis' statistics (one block per test)."""
    fuzzed = {}
    endpoint = None
    for line in output.splitlines():
        if match := FUZZ_TEST.search(line):
            endpoint = match[1]
        elif endpoint and (match := PASSING_EXAMPLES.search(line)):
            fuzzed[endpoint] = fuzzed.get(endpoint, 0) + int(match[1])
    return fuzzed


@pytest.mark.stage("fuzz")
def test_fuzz_tests_at_full_strength(clean_install, request, record_property):
    """Thousands of malformed frames per endpoint (the project's ``fuzz`` profile)."""
    env = {}
    if clean_install.bake.combination["channel_layer"] == "redis":
        env["REDIS_TEST_URL"] = request.getfixturevalue("redis_server")
        flush_redis(env["REDIS_TEST_URL"])  # no groups or messages of another combination
    result = clean_install.run_tests(
        "tests/test_fuzz.py",
        "--hypothesis-profile=fuzz",
        "--hypothesis-show-statistics",
        **env,
    )
    assert result.returncode == 0, result.report
    fuzzed = fuzzed_frames(result.output)
    assert set(fuzzed) == FUZZED_ENDPOINTS, f"fuzz tests ran: {fuzzed}"
    assert min(fuzzed.values()) >= MIN_FUZZED_FRAMES, f"too few: {fuzzed}"
    record_property("fuzzed_frames", fuzzed)
