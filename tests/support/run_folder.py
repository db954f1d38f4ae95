"""One folder per test run that every xdist worker shares, and what goes in it: the clean
installs' shared environments, and the results of checks whose inputs are byte-identical
between combinations (``computed_once``).

The controller names the run before it starts its workers, which inherit the name through
the environment, and removes the folder once every worker is done.
"""

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from tests.support.environments import file_lock
from tests.support.processes import Completed

RUN_ID = "PYTEST_TEMPLATE_RUN_ID"


def scratch_root():
    """Memory (/dev/shm) where the machine has it: writing a virtual environment there
    takes half the time it takes on a busy disk."""
    shared_memory = Path("/dev/shm")
    return shared_memory if os.access(shared_memory, os.W_OK) else Path(tempfile.gettempdir())


def folder():
    """This run's folder: the same for every xdist worker."""
    return scratch_root() / f"template-run-{os.environ[RUN_ID]}"


def name_the_run():
    """On the controller, before it starts the workers."""
    os.environ.setdefault(RUN_ID, f"{os.getpid()}-{int(time.time())}")


def remove():
    """On the controller, once every worker is done."""
    if RUN_ID in os.environ:
        shutil.rmtree(folder(), ignore_errors=True)


def content_key(root, names, *extra):
    """A digest of the files ``names`` (files or folders) under ``root``, by relative path
    and content, and of ``extra``: equal exactly when the inputs are byte-identical."""
    digest = hashlib.sha256(json.dumps(extra, sort_keys=True).encode())
    for name in names:
        path = root / name
        for file in sorted(path.rglob("*")) if path.is_dir() else [path]:
            if file.is_file():
                digest.update(f"\0{file.relative_to(root)}\0".encode() + file.read_bytes())
    return digest.hexdigest()[:20]


def computed_once(kind, key, project, compute):
    """``compute()``'s :class:`Completed`, run once per run for each ``key``: a check of
    byte-identical inputs has the same outcome in every combination that has them. The
    ``project`` path is kept out of the stored result and put back for each caller."""
    stored = folder() / "results" / kind / f"{key}.json"
    with file_lock(stored.with_suffix(".lock")):
        if not stored.exists():
            text = json.dumps(asdict(compute()))
            stored.write_text(text.replace(json.dumps(str(project))[1:-1], "{project}"))
        text = stored.read_text().replace("{project}", json.dumps(str(project))[1:-1])
    return Completed(**json.loads(text))
