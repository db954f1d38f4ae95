"""The shared environment is the one every baked project declares.

Each baked ``requirements/*.txt`` pins exact versions, and each pin is the version
installed here, so a baked project's own tests pass in this environment for the same
reason they pass in a fresh ``pip install -r requirements/dev.txt``.
"""

import re
from importlib import metadata

import pytest

PIN = re.compile(
    r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)"
    r"(?:\[[A-Za-z0-9._,\s-]*\])?"
    r"==(?P<version>[^\s;#]+)"
    r"\s*(?:;[^#]*)?"
)
INCLUDE = re.compile(r"-r\s+(?P<file>\S+)")


def requirement_lines(baked):
    """(file, line number, requirement) for every requirement line of every
    requirements/*.txt of a baked project, comments and blank lines dropped."""
    files = sorted(
        path for path in baked.files if path.startswith("requirements/") and path.endswith(".txt")
    )
    assert files, f"{baked.id}: no requirements/*.txt"
    for path in files:
        text = baked.files[path].decode()
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.split(" #", 1)[0].strip()
            if line and not line.startswith("#"):
                yield path, number, line


@pytest.mark.stage("pins")
def test_every_requirement_is_an_exact_pin_or_an_include(baked):
    problems = []
    for path, number, line in requirement_lines(baked):
        include = INCLUDE.fullmatch(line)
        if include:
            target = f"requirements/{include['file']}"
            if target not in baked.files:
                problems.append(f"{path}:{number}: includes missing {target}")
        elif not PIN.fullmatch(line):
            problems.append(f"{path}:{number}: not an exact name==version pin: {line}")
    assert not problems, f"{baked.id}:\n" + "\n".join(problems)


@pytest.mark.stage("pins")
def test_pins_match_the_shared_environment(baked):
    problems = []
    for path, number, line in requirement_lines(baked):
        pin = PIN.fullmatch(line)
        if pin is None:
            continue  # an include, or reported by the exact-pin test
        name, pinned = pin["name"], pin["version"]
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            problems.append(f"{path}:{number}: {name}=={pinned} is not installed here")
            continue
        if installed != pinned:
            problems.append(f"{path}:{number}: {name}=={pinned} but {installed} is installed here")
    assert not problems, f"{baked.id}:\n" + "\n".join(problems)
