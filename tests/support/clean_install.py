"""A baked project installed and tested as its user's CI would: its own workflow, run here.

The baked ``.github/workflows/ci.yml`` runs step by step, as GitHub Actions would run it:

- ``actions/checkout``: the project is committed to a fresh git repository and cloned, so
  that what git ignores (``.env`` with its secret key, ``db.sqlite3``) is not there;
- ``actions/setup-python``: a fresh virtual environment made with the Python version the
  workflow names, its ``bin`` first on ``PATH``; nothing of the template's environment is
  on ``PATH`` or in the environment. Combinations whose requirement files are
  byte-identical share that environment (tests/support/environments.py): the first builds
  it with the workflow's own ``pip install`` lines, the others find it built;
- every ``run:`` step, in order, with bash as GitHub runs it
  (``bash --noprofile --norc -eo pipefail``), in the combination's own checkout, with the
  job's ``env`` and the step's own;
- a ``services:`` Redis is a real ``redis-server``, on the port that the workflow
  publishes, or on a free one when that port is busy: then the job's environment points
  there instead, and the run says so in its notes.

Downloads are shared between combinations: ``pip install`` runs as written, with
``PIP_NO_INDEX`` and ``PIP_FIND_LINKS`` pointing at a wheelhouse. The wheelhouse is filled
from the package index with the project's own requirement files whenever it lacks one of
their packages, under a lock that every xdist worker shares.
"""

import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from tests.support import run_folder
from tests.support.environments import (
    BASH,
    SharedEnvironment,
    Wheelhouse,
    file_lock,
    find_python,
    install_lines,
    requirements_key,
)
from tests.support.options import REPO_ROOT
from tests.support.processes import path_without, port_is_free, run, tail
from tests.support.redis_server import RedisServer

__all__ = ["CleanInstall", "find_python"]

STEP_TIMEOUT = 900  # seconds: the test suite is the longest step
# What a step's environment starts from: the machine's, not the template's test run.
INHERITED = ("HOME", "USER", "LANG", "LC_ALL", "TMPDIR", "SHELL")
GIT_IDENTITY = (
    "-c",
    "user.name=Template Tests",
    "-c",
    "user.email=tests@example.invalid",
)


def the_job(bake):
    """(name, job) of the baked workflow's one job."""
    workflow = yaml.safe_load((bake.path / ".github" / "workflows" / "ci.yml").read_text())
    if len(workflow["jobs"]) != 1:
        pytest.fail(f"{bake.id}: ci.yml has jobs {sorted(workflow['jobs'])}, not one")
    return next(iter(workflow["jobs"].items()))


def runner_environment(venv):
    """The runner's environment: the machine's basics, ``venv``'s Python first on PATH."""
    env = {name: os.environ[name] for name in INHERITED if name in os.environ}
    system_path = path_without(os.environ.get("PATH", os.defpath), sys.prefix)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{system_path}"
    return env | {"CI": "true", "GITHUB_ACTIONS": "true", "PYTHONDONTWRITEBYTECODE": "1"}


def clone(source, repository, checkout):
    """``source`` committed to a fresh git ``repository``, cloned into ``checkout``."""
    shutil.copytree(source, repository, symlinks=True)
    git = shutil.which("git")
    if git is None:
        pytest.fail("git is not installed: `apt-get install git`", pytrace=False)
    for command in (
        ["init", "--quiet", "--initial-branch=main"],
        ["add", "--all"],
        [*GIT_IDENTITY, "commit", "--quiet", "--message", "Baked"],
    ):
        run([git, *command], cwd=repository)
    run([git, "clone", "--quiet", repository, checkout])


def start_services(cid, job, workdir, locks):
    """A real ``redis-server`` for each Redis container ``job`` declares, on its published
    port or, when that is busy, on a free one. Returns (servers, the job's ``:port``
    replacements, notes)."""
    servers, replaced, notes = [], {}, []
    for name, service in job.get("services", {}).items():
        image = service.get("image", "")
        if not image.startswith("redis:"):
            pytest.fail(f"{cid}: no stand-in for service {name} ({image})")
        declared = int(str(service["ports"][0]).split(":")[0])
        with file_lock(locks / f"port-{declared}.lock"):
            port = declared if port_is_free(declared) else None
            server = RedisServer(workdir / f"service-{name}", port)
            server.directory.mkdir()
            servers.append(server.start())
        if server.port != declared:
            replaced[f":{declared}"] = f":{server.port}"
            notes.append(
                f"services.{name}: port {declared} was busy; redis-server ran on "
                f"{server.port} and the job's environment points there"
            )
        else:
            notes.append(f"services.{name}: redis-server on port {declared}")
    return servers, replaced, notes


@dataclass
class StepResult:
    name: str
    command: str
    returncode: int
    output: str
    seconds: float

    @property
    def passed(self):
        return self.returncode == 0


@dataclass
class CleanInstall:
    """One baked project, checked out and installed as its CI workflow says, once."""

    bake: object
    workdir: Path
    wheelhouse: Wheelhouse
    environments: Path  # where the shared environments of this run live
    notes: list = field(default_factory=list)
    timings: dict = field(default_factory=dict)
    results: list = None

    def __post_init__(self):
        self.job_name, self.job = the_job(self.bake)
        self.checkout = self.workdir / "checkout"
        self.environment = None  # set by check_out: it depends on the requirement files
        self.env = None

    # -- what the workflow's actions do

    @property
    def python_version(self):
        for step in self.job["steps"]:
            if step.get("uses", "").startswith("actions/setup-python@"):
                return str(step["with"]["python-version"])
        return pytest.fail(f"{self.bake.id}: ci.yml sets up no Python", pytrace=False)

    @property
    def venv(self):
        return self.environment.venv

    @property
    def python(self):
        return self.venv / "bin" / "python"

    def check_out(self):
        """actions/checkout: what a fresh clone of the user's repository holds."""
        clone(self.bake.path, self.workdir / "repository", self.checkout)
        key = requirements_key(self.checkout, self.python_version)
        self.environment = SharedEnvironment(self.environments, key)

    def set_up_python(self):
        """actions/setup-python, as a fresh virtual environment of that version: the
        shared one of these requirement files, built here if no other combination did."""
        python = find_python(self.python_version)
        self.env = runner_environment(self.venv)
        lines = install_lines(self.job["steps"])
        pip_env = self.env | self.wheelhouse.environment()

        def fill_wheelhouse():
            requirements = sorted(self.checkout.glob("requirements/*.txt"))
            if self.wheelhouse.fill([python, "-m", "pip"], requirements, self.env):
                self.notes.append("filled the wheelhouse from the package index")

        seconds, built_by = self.environment.build(
            python, self.checkout, lines, pip_env, self.bake.id, before=fill_wheelhouse
        )
        self.timings["venv"] = round(seconds, 1)
        version = run([self.python, "--version"]).output.strip()
        if built_by == self.bake.id:
            self.notes.append(f"{version} from {python}, built here: {'; '.join(lines)}")
        else:
            self.notes.append(f"{version}: {built_by}'s environment (same requirement files)")

    def step_environment(self, step, replaced):
        values = {**self.job.get("env", {}), **step.get("env", {})}
        for declared, actual in replaced.items():
            values = {key: str(value).replace(declared, actual) for key, value in values.items()}
        return self.env | self.wheelhouse.environment() | {k: str(v) for k, v in values.items()}

    # -- the run

    def run_workflow(self):
        """Every step of the job, in order, stopping at the first that fails, as GitHub
        does. Returns the results; runs once, later calls return the same results."""
        if self.results is not None:
            return self.results
        self.results = []
        started = time.monotonic()
        self.check_out()
        self.set_up_python()
        # services: a real server for each container the job declares.
        services, replaced, notes = start_services(
            self.bake.id, self.job, self.workdir, self.wheelhouse.path.parent
        )
        self.notes += notes
        try:
            for number, step in enumerate(self.job["steps"], start=1):
                if "run" not in step:
                    self.check_action(step)
                    continue
                result = self.run_step(number, step, replaced)
                self.results.append(result)
                if not result.passed:
                    break
        finally:
            for server in services:
                server.stop()
        self.timings["workflow"] = round(time.monotonic() - started, 1)
        return self.results

    def check_action(self, step):
        uses = step.get("uses", "")
        if not uses.startswith(("actions/checkout@", "actions/setup-python@")):
            pytest.fail(f"{self.bake.id}: no stand-in for the action {uses!r}", pytrace=False)

    def run_step(self, number, step, replaced):
        name = step.get("name", step["run"].splitlines()[0])
        completed = run(
            [*BASH, step["run"]],
            cwd=self.checkout,
            env=self.step_environment(step, replaced),
            timeout=STEP_TIMEOUT,
            check=False,
            what=f"step {number} ({name})",
        )
        self.timings.setdefault("steps", {})[name] = round(completed.seconds, 1)
        if re.fullmatch(r"pip install -r \S+\s*", step["run"]):  # the README's set-up
            self.timings["install"] = self.timings.get("install", 0) + completed.seconds
        return StepResult(
            name, step["run"], completed.returncode, completed.output, completed.seconds
        )

    def failure(self):
        """A report of the failed step, or None when every step passed."""
        for result in self.results or []:
            if not result.passed:
                return (
                    f"{self.bake.id}: workflow step {result.name!r} exited "
                    f"{result.returncode}:\n$ {result.command.strip()}\n{tail(result.output)}"
                )
        return None

    def step_environment_for(self, **extra):
        """The environment of a command run after the workflow, in the same checkout."""
        return self.env | self.wheelhouse.environment() | extra

    def run_tests(self, *args, **env):
        """The project's own pytest again, after the workflow, in its checkout: ``args``
        for pytest, ``env`` on top of the runner's environment (the job's services are
        gone: a test that needs Redis passes its own ``REDIS_URL``)."""
        return run(
            [self.python, "-m", "pytest", "-p", "no:cacheprovider", *args],
            cwd=self.checkout,
            env=self.step_environment_for(**env),
            timeout=STEP_TIMEOUT,
            check=False,
        )


@pytest.fixture(scope="session")
def wheelhouse():
    """Where every clean install takes its packages from: kept between runs in
    ``.cache/wheelhouse``, filled from the package index when a requirement is missing."""
    return Wheelhouse(REPO_ROOT / ".cache" / "wheelhouse")


@pytest.fixture(scope="session")
def clean_installs(wheelhouse):
    """Install a bake once per worker; returns its :class:`CleanInstall`, workflow run."""
    root = Path(tempfile.mkdtemp(prefix="clean-installs-", dir=run_folder.scratch_root()))
    environments = run_folder.folder() / "environments"
    installs = {}

    def install(bake):
        if bake.id not in installs:
            workdir = root / bake.id
            workdir.mkdir()
            installs[bake.id] = CleanInstall(bake, workdir, wheelhouse, environments)
        installs[bake.id].run_workflow()
        return installs[bake.id]

    yield install
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def clean_install(clean_installs, baked):
    """This combination checked out, installed and tested by its own CI workflow."""
    return clean_installs(baked)
