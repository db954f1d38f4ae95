"""Every combination's deployment files are right as generated.

Production settings pass Django's deployment checks with only the documented variables
set; docker-compose accepts the compose file (Debian's ``docker-compose`` checks it
without a Docker engine); a real ``nginx -t`` accepts the nginx config; the GitHub
Actions workflow parses, and its steps run here as they would on GitHub.
"""

import re
import secrets
import shlex
import shutil
import subprocess
import sys

import pytest
import yaml

from tests.test_baked_projects import TOOL_TIMEOUT, project_env, tail

DEBIAN_PACKAGES = {"docker-compose": "docker-compose", "nginx": "nginx"}


def require(tool):
    """The path of ``tool``, or a failure that says how to install it."""
    path = shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/sbin")
    if path is None:
        pytest.fail(
            f"{tool} is not installed: `apt-get install {DEBIAN_PACKAGES[tool]}` "
            "(Debian/Ubuntu), or run `make test`, which installs it.",
            pytrace=False,
        )
    return path


def run(project, *command, env=None, redis_url=None, timeout=TOOL_TIMEOUT):
    """Run ``command`` in ``project`` with extra environment; return the result."""
    environment = project_env(redis_url) | (env or {})
    return subprocess.run(
        [str(part) for part in command],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def assert_ran(result):
    __tracebackhide__ = True
    if result.returncode != 0:
        shown = shlex.join(map(str, result.args))
        pytest.fail(
            f"`{shown}` exited {result.returncode}:\n{tail(result.stdout + result.stderr)}",
            pytrace=False,
        )


def production_env(**overrides):
    """Only the variables the baked README documents as required in production."""
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "chat.example.com",
    } | overrides


# --- production settings ------------------------------------------------------------


@pytest.mark.stage("deploy check")
def test_production_passes_check_deploy(baked):
    assert_ran(
        run(
            baked.path,
            sys.executable,
            "manage.py",
            "check",
            "--deploy",
            "--fail-level",
            "WARNING",
            env=production_env(),
        )
    )


@pytest.mark.stage("deploy check")
@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS"])
def test_production_refuses_to_start_without(baked, missing):
    env = production_env()
    del env[missing]
    result = run(baked.path, sys.executable, "manage.py", "check", env=env)
    assert result.returncode != 0, f"production started without {missing}"
    assert f"Set the {missing} environment variable" in result.stderr


@pytest.mark.stage("deploy check")
def test_production_ignores_the_local_env_file(baked):
    """The .env with the local secret must not configure production."""
    env = production_env()
    del env["DJANGO_SECRET_KEY"]
    assert (baked.path / ".env").is_file()
    result = run(baked.path, sys.executable, "manage.py", "check", env=env)
    assert "DJANGO_SECRET_KEY" in result.stderr


# --- docker-compose -----------------------------------------------------------------


def compose_config(project, tmp_path, **env):
    """``docker-compose config`` with only ``env`` set: the project's local .env, which
    compose would read for ``${...}`` otherwise, is replaced by an empty file."""
    empty = tmp_path / "empty.env"
    empty.touch()
    compose = require("docker-compose")
    return run(project, compose, "--env-file", empty, "config", env=env)


@pytest.mark.stage("compose")
def test_compose_file_is_valid(baked, tmp_path):
    secrets_set = {"DJANGO_SECRET_KEY": "x" * 50, "POSTGRES_PASSWORD": "compose-check"}
    result = compose_config(baked.path, tmp_path, **secrets_set)
    assert_ran(result)
    config = yaml.safe_load(result.stdout)
    services = config["services"]
    redis = baked.combination["channel_layer"] == "redis"
    expected = {"migrate", "web", "nginx", "postgres"} | ({"redis"} if redis else set())
    assert set(services) == expected
    for name in expected & {"postgres", "redis"}:
        assert services[name]["healthcheck"]["test"], f"{name} has no health check"
    web_needs = services["web"]["depends_on"]
    assert web_needs["migrate"]["condition"] == "service_completed_successfully"
    if redis:
        assert web_needs["redis"]["condition"] == "service_healthy"
        assert services["web"]["environment"]["REDIS_URL"] == "redis://redis:6379/0"
    assert services["nginx"]["depends_on"]["web"]["condition"] == "service_healthy"
    postgres_need = services["migrate"]["depends_on"]["postgres"]
    assert postgres_need["condition"] == "service_healthy"
    volumes = {"postgres-data"} | ({"redis-data"} if redis else set())
    assert set(config["volumes"]) == volumes


@pytest.mark.stage("compose")
@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "POSTGRES_PASSWORD"])
def test_compose_refuses_to_run_without_its_secrets(baked, tmp_path, missing):
    env = {"DJANGO_SECRET_KEY": "x" * 50, "POSTGRES_PASSWORD": "compose-check"}
    del env[missing]
    result = compose_config(baked.path, tmp_path, **env)
    assert result.returncode != 0
    assert result.stderr.strip().endswith(f"set {missing}"), result.stderr


# --- nginx --------------------------------------------------------------------------


def nginx_test_config(site, workdir, certificate, upstream="127.0.0.1:8000"):
    """The baked site config made runnable here: upstream, certificates and logs moved
    to this machine, wrapped in a minimal main config that runs as this user."""
    for docker_path, local_path in {
        "server web:8000 ": f"server {upstream} ",
        "/etc/nginx/certs": str(certificate),
        "/var/log/nginx": str(workdir),
    }.items():
        assert docker_path in site, f"deploy/nginx.conf no longer has {docker_path!r}"
        site = site.replace(docker_path, local_path)
    (workdir / "site.conf").write_text(site)
    main = workdir / "nginx.conf"
    main.write_text(
        f"pid {workdir}/nginx.pid;\n"
        f"error_log {workdir}/error.log;\n"
        "events {}\n"
        "http {\n"
        "    include /etc/nginx/mime.types;\n"
        f"    client_body_temp_path {workdir}/body;\n"
        f"    proxy_temp_path {workdir}/proxy;\n"
        f"    include {workdir}/site.conf;\n"
        "}\n"
    )
    return main


@pytest.mark.stage("nginx")
def test_nginx_accepts_the_config(baked, certificate, tmp_path):
    nginx = require("nginx")
    site = (baked.path / "deploy" / "nginx.conf").read_text()
    config = nginx_test_config(site, tmp_path, certificate)
    result = subprocess.run(
        [nginx, "-t", "-q", "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr


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
        for header in ("Host", "X-Forwarded-For", "X-Forwarded-Proto"):
            assert f"proxy_set_header {header} " in block, f"location {block[:20]}"
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
    assert "pytest" in runs
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
    runs = [
        step["run"]
        for step in workflow(baked)["jobs"]["test"]["steps"]
        if "run" in step
    ]
    assert installs and all(command in runs for command in installs), (installs, runs)
