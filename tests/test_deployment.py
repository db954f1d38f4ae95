"""Every combination's deployment files are right as generated.

Production settings pass Django's deployment checks with only the documented variables
set; docker-compose accepts the compose file (Debian's ``docker-compose`` checks it
without a Docker engine); a real ``nginx -t`` accepts the nginx config; the GitHub
Actions workflow parses and holds the steps a project needs (tests/test_own_tests.py runs
it).
"""

import re
import sys

import pytest
import yaml

from tests.support import nginx
from tests.support.baking import tool_env
from tests.support.deployment import production_env
from tests.support.options import COOKIECUTTER_JSON
from tests.support.processes import require, run
from tests.support.run_folder import computed_once, content_key


def run_in(baked, *command, env=None, check=False):
    """``command`` in the baked project, with ``env`` on top of :func:`tool_env`."""
    return run(command, cwd=baked.path, env=tool_env(**(env or {})), check=check)


# --- production settings ------------------------------------------------------------


@pytest.mark.stage("deploy check")
def test_production_passes_check_deploy(baked):
    command = ["manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    run_in(baked, sys.executable, *command, env=production_env(), check=True)


@pytest.mark.stage("deploy check")
@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS"])
def test_production_refuses_to_start_without(baked, missing):
    env = production_env()
    del env[missing]
    result = run_in(baked, sys.executable, "manage.py", "check", env=env)
    assert result.returncode != 0, f"production started without {missing}"
    assert f"Set the {missing} environment variable" in result.stderr


@pytest.mark.stage("deploy check")
def test_production_ignores_the_local_env_file(baked):
    """The .env with the local secret must not configure production."""
    env = production_env()
    del env["DJANGO_SECRET_KEY"]
    assert (baked.path / ".env").is_file()
    result = run_in(baked, sys.executable, "manage.py", "check", env=env)
    assert "DJANGO_SECRET_KEY" in result.stderr


# --- docker-compose -----------------------------------------------------------------


def compose_config(baked, tmp_path, *, check=False, **env):
    """``docker-compose config`` with only ``env`` set: the project's local .env, which
    compose would read for ``${...}`` otherwise, is replaced by an empty file. What it
    prints depends on the compose file and ``env`` alone, so the combinations whose
    compose files are byte-identical share one run of it."""
    __tracebackhide__ = True
    empty = tmp_path / "empty.env"
    empty.touch()
    compose = require("docker-compose")
    result = computed_once(
        "docker-compose config",
        content_key(baked.path, ["docker-compose.yml"], env),
        baked.path,
        lambda: run_in(baked, compose, "--env-file", empty, "config", env=env),
    )
    if check and result.returncode != 0:
        pytest.fail(result.report, pytrace=False)
    return result


@pytest.mark.stage("compose")
def test_compose_file_is_valid(baked, tmp_path):
    secrets_set = {"DJANGO_SECRET_KEY": "x" * 50, "POSTGRES_PASSWORD": "compose-check"}
    result = compose_config(baked, tmp_path, check=True, **secrets_set)
    config = yaml.safe_load(result.stdout)
    services = config["services"]
    redis = baked.combination["channel_layer"] == "redis"
    celery = baked.combination["tasks"] == "celery"
    expected = {"migrate", "web", "nginx", "postgres"}
    expected |= ({"redis"} if redis else set()) | ({"worker"} if celery else set())
    assert set(services) == expected
    for name in expected & {"postgres", "redis"}:
        assert services[name]["healthcheck"]["test"], f"{name} has no health check"
    web_needs = services["web"]["depends_on"]
    assert web_needs["migrate"]["condition"] == "service_completed_successfully"
    if redis:
        assert web_needs["redis"]["condition"] == "service_healthy"
        assert services["web"]["environment"]["REDIS_URL"] == "redis://redis:6379/0"
    assert services["nginx"]["depends_on"]["web"]["condition"] == "service_healthy"
    if celery:
        assert_worker_is_its_own_service(services)
    postgres_need = services["migrate"]["depends_on"]["postgres"]
    assert postgres_need["condition"] == "service_healthy"
    volumes = {"postgres-data"} | ({"redis-data"} if redis else set())
    assert set(config["volumes"]) == volumes


def assert_worker_is_its_own_service(services):
    """The worker: web's image and environment, the worker's command, and a health check
    that pings its own node only (the image's would ask a web server it does not run)."""
    worker, web = services["worker"], services["web"]
    assert worker["build"] == web["build"]
    assert worker["environment"].items() <= web["environment"].items()
    assert set(web["environment"]) - set(worker["environment"]) <= {"WEB_CONCURRENCY"}
    assert " ".join(worker["command"]) == COOKIECUTTER_JSON["__run_worker"]
    kind, command = worker["healthcheck"]["test"]
    command = command.replace("$$", "$")  # compose's escape, which some versions print
    assert kind == "CMD-SHELL" and command.startswith("celery -A config inspect ping ")
    assert command.endswith(" --destination celery@$HOSTNAME")
    needs = {name: need["condition"] for name, need in worker["depends_on"].items()}
    assert needs == {"migrate": "service_completed_successfully", "redis": "service_healthy"}
    assert worker["restart"] == "unless-stopped"


@pytest.mark.stage("compose")
@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "POSTGRES_PASSWORD"])
def test_compose_refuses_to_run_without_its_secrets(baked, tmp_path, missing):
    env = {"DJANGO_SECRET_KEY": "x" * 50, "POSTGRES_PASSWORD": "compose-check"}
    del env[missing]
    result = compose_config(baked, tmp_path, **env)
    assert result.returncode != 0
    assert result.stderr.strip().endswith(f"set {missing}"), result.stderr


# --- nginx --------------------------------------------------------------------------


@pytest.mark.stage("nginx")
def test_nginx_accepts_the_config(baked, certificate, tmp_path):
    site = (baked.path / "deploy" / "nginx.conf").read_text()
    config = nginx.checkable_config(site, tmp_path, certificate)
    run([require("nginx"), "-t", "-q", "-c", config], timeout=30)


@pytest.mark.stage("nginx")
def test_nginx_config_proxies_websockets(baked):
    site = (baked.path / "deploy" / "nginx.conf").read_text()
    for needed in (
        "map $http_upgrade $connection_upgrade",
        "proxy_http_version 1.1;",
        "proxy_set_header Upgrade    $http_upgrade;",
        "proxy_set_header Connection $connection_upgrade;",
        "proxy_read_timeout 1h;",
        "proxy_set_header X-Forwarded-For   $proxy_add_x_forwarded_for;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        "proxy_set_header Host              $host;",
        "location /ws/",
        "location /static/",
    ):
        assert needed in site, f"deploy/nginx.conf lacks {needed!r}"
    # nginx forgets inherited proxy_set_header lines in a location that sets its own.
    for block in re.split(r"\n\s*location ", site)[1:]:
        if "proxy_pass" not in block.split("}", 1)[0]:
            continue
        for header in ("Host", "X-Forwarded-For", "X-Forwarded-Proto"):
            assert f"proxy_set_header {header} " in block, f"location {block[:20]}"
    # The servers' metrics are for the private network (docs/deployment.md, "Metrics").
    assert re.search(r"location = /metrics \{\s*return 403;\s*\}", site)
    # Tokens travel in query strings: the access log must not record them.
    assert "$request_uri" not in site.split("log_format", 1)[1].split(";", 1)[0]
    assert "access_log /var/log/nginx/access.log no_query;" in site


# --- GitHub Actions -----------------------------------------------------------------


def workflow(baked):
    return yaml.safe_load((baked.path / ".github" / "workflows" / "ci.yml").read_text())


@pytest.mark.stage("workflow")
def test_workflow_runs_lint_checks_and_the_test_suite(baked):
    job = workflow(baked)["jobs"]["test"]
    runs = [step["run"] for step in job["steps"] if "run" in step]
    assert "pip install -r requirements/dev.txt" in runs
    assert "ruff check . && ruff format --check ." in runs
    # The workflow audits itself (tests/test_workflows.py runs the same audit here).
    assert "zizmor --offline --min-severity medium .github/workflows" in runs
    if baked.combination["workshop"] == "exercises":
        # The exercises' tests fail by design: the rest runs, then the progress table.
        assert 'pytest -m "not exercise"' in runs
        assert "python manage.py workshop" in runs
    else:
        assert "pytest" in runs
    assert "pip install -r requirements/docs.txt\nmkdocs build --strict\n" in runs
    if baked.combination["channel_layer"] == "redis":
        assert job["services"]["redis"]["image"].startswith("redis:")
        assert job["env"]["REDIS_URL"] == "redis://localhost:6379/0"
    else:
        assert "services" not in job


@pytest.mark.stage("workflow")
def test_the_readme_installs_what_the_workflow_installs(baked):
    """The README's set-up installs with the workflow's own command, so the clean
    install stage, which runs the workflow, proves the README's set-up too."""
    readme = (baked.path / "README.md").read_text()
    set_up = readme.split("\n## Set up\n", 1)[1].split("\n## ", 1)[0]
    installs = re.findall(r"^pip install .*$", set_up, re.MULTILINE)
    runs = [step["run"] for step in workflow(baked)["jobs"]["test"]["steps"] if "run" in step]
    assert installs and all(command in runs for command in installs), (installs, runs)
