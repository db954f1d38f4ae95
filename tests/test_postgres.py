"""The baked test suite passes on PostgreSQL too, the database docker-compose runs.

A throw-away PostgreSQL server (tests/support/postgres.py) starts for the session; each
combination of the covering set runs its own test suite against it, in its clean
install, with ``DATABASE_URL`` pointing there.
"""

import pytest

from tests.support.redis_server import flush_redis

pytestmark = pytest.mark.stage("postgres")


def test_own_suite_passes_on_postgresql(clean_install, postgres_url, request):
    env = {"DATABASE_URL": postgres_url}
    if clean_install.bake.combination["channel_layer"] == "redis":
        env["REDIS_TEST_URL"] = request.getfixturevalue("redis_server")
        flush_redis(env["REDIS_TEST_URL"])
    result = clean_install.run_tests("-q", **env)
    assert result.returncode == 0, result.report
    assert "passed" in result.stdout
