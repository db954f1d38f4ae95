"""Where clean installs get their Python and their packages.

- :func:`find_python`: the interpreter of the version a baked workflow names.
- :class:`Wheelhouse`: a folder of wheels that every install takes its packages from, so
  that ``pip install`` runs as written but offline; filled from the package index when a
  project's requirement files name a package it lacks.
- :class:`SharedEnvironment`: one fresh virtual environment per set of byte-identical
  requirement files. Combinations whose ``requirements/*.txt`` are the same files (the
  consumer style and the auth option change no requirement) would each build the very same
  environment; the first one builds it with its workflow's own ``pip install`` lines, and
  every one of them, the first included, then runs its whole workflow in its own checkout,
  whose install steps find what they declare already there.
"""

import fcntl
import hashlib
import shutil
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.processes import run

# GitHub's default shell for run: steps on Linux.
BASH = ("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c")
DOWNLOAD_TIMEOUT = 900  # seconds to fill the wheelhouse from the index
INSTALL_TIMEOUT = 900  # seconds for one environment's pip install lines


def python_install_hint(version):
    return (
        f"Python {version}, the version that the baked workflow and README name, is not "
        f"installed: `apt-get install python{version}` where Debian has it, "
        f"`pyenv install {version}`, or https://www.python.org/downloads/."
    )


def find_python(version):
    """An interpreter of ``version`` ("3.12"): this one, one on PATH, or pyenv's."""
    candidates = (
        [sys.executable] if f"{sys.version_info[0]}.{sys.version_info[1]}" == version else []
    )
    candidates += [shutil.which(f"python{version}")]
    candidates += sorted(
        str(path) for path in Path.home().glob(f".pyenv/versions/{version}.*/bin/python{version}")
    )
    for candidate in filter(None, candidates):
        probe = run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            check=False,
            timeout=30,
        )
        # A pyenv shim exits non-zero when that version is not selected.
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    pytest.fail(python_install_hint(version), pytrace=False)


@contextmanager
def file_lock(path):
    """An exclusive lock on ``path`` between processes (xdist workers included)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass
class Wheelhouse:
    """A folder of wheels that every clean install takes its packages from."""

    path: Path

    @property
    def lock(self):
        return self.path.with_suffix(".lock")

    def environment(self):
        """What turns a plain ``pip install`` into an install from this folder only."""
        return {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(self.path)}

    def fill(self, pip, requirements, env):
        """Make sure every package of ``requirements`` (files) is here: download what is
        missing, with ``pip`` (a command: pip of the Python that will install them). True
        when it downloaded anything."""
        files = [arg for path in requirements for arg in ("-r", path)]
        with file_lock(self.lock):
            self.path.mkdir(parents=True, exist_ok=True)
            offline = env | self.environment()
            present = run(
                [*pip, "download", "--quiet", "--dest", self.path, *files],
                env=offline,
                timeout=DOWNLOAD_TIMEOUT,
                check=False,
            )
            if present.returncode == 0:
                return False
            # pip wheel, not download: a package published without a wheel for this
            # Python is built once here, not in every install.
            run(
                [*pip, "wheel", "--quiet", "--wheel-dir", self.path, *files],
                env=env | {"PIP_FIND_LINKS": str(self.path)},
                timeout=DOWNLOAD_TIMEOUT,
                what="filling the wheelhouse from the package index",
            )
            return True


def requirements_key(checkout, python_version):
    """The same for two checkouts exactly when their requirement files are byte-identical
    (names and contents) and their workflows name the same Python."""
    digest = hashlib.sha256(python_version.encode())
    for path in sorted(checkout.glob("requirements/*.txt")):
        digest.update(f"\0{path.name}\0".encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def install_lines(steps):
    """The ``pip install`` lines of a workflow's run steps, in order."""
    return [
        line.strip()
        for step in steps
        for line in step.get("run", "").splitlines()
        if line.strip().startswith("pip install ")
    ]


@dataclass
class SharedEnvironment:
    """The virtual environment of one set of requirement files, shared by the clean
    installs of every combination that has those files; built once, under a lock that
    every xdist worker shares."""

    root: Path
    key: str

    @property
    def venv(self):
        return self.root / self.key

    @property
    def built_by(self):
        marker = self.venv / "built-by"
        return marker.read_text() if marker.exists() else None

    def build(self, python, checkout, lines, env, cid, *, before):
        """Make the environment with ``python`` and run ``lines`` (the workflow's own
        pip install lines) in ``checkout``, after ``before()``, unless a combination with
        the same files did. Returns (seconds spent here, the combination that built it)."""
        started = time.monotonic()
        with file_lock(self.root / f"{self.key}.lock"):
            if self.built_by is None:
                shutil.rmtree(self.venv, ignore_errors=True)  # a half-built one
                before()
                run([python, "-m", "venv", self.venv], what=f"{python} -m venv")
                for line in lines:
                    run(
                        [*BASH, line],
                        cwd=checkout,
                        env=env,
                        timeout=INSTALL_TIMEOUT,
                        what=f"{line} (building {cid}'s environment)",
                    )
                (self.venv / "built-by").write_text(cid)
        return time.monotonic() - started, self.built_by
