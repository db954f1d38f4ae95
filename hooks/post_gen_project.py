"""Shape the baked project to the chosen options, give it a secret, say what is next.

The template keeps one file per variant side by side (``consumers_async.py`` next to
``consumers_sync.py``) instead of long template conditionals. This hook renames the chosen
variant to its plain name and deletes the others, then deletes the files that only other
choices use. What is left reads as if it had been written for these options alone.

A chosen variant that the template lacks (a choice added to cookiecutter.json without its
files) stops the bake, before anything is renamed, with a message that names the file and
the option; cookiecutter then removes the project directory.
"""

import json
import re
import secrets
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

# option -> files that exist once per choice, as "<stem>_<choice><suffix>"; the chosen
# one becomes "<stem><suffix>". "{slug}" is the project's package.
VARIANTS = {
    "consumers": [
        "{slug}/realtime/consumers.py",
        "{slug}/echo/consumers.py",
        "{slug}/chat/consumers.py",
        "{slug}/notifications/consumers.py",
    ],
    "auth": [
        "{slug}/realtime/auth.py",
        "{slug}/chat/static/chat/auth.js",
        "{slug}/chat/templates/chat/sign_in.html",
        "tests/clients.py",
        "{slug}/loadtest/signin.py",
    ],
    "channel_layer": [
        "{slug}/realtime/presence.py",
    ],
    "server": [
        "deploy/serve.sh",
        "{slug}/realtime/disconnects.py",
    ],
    "tasks": [
        "config/__init__.py",
        "{slug}/chat/templates/chat/room_actions.html",
    ],
    # The exercises' stubs: the "none" files are the answer key.
    "workshop": [
        "{slug}/chat/delivery.py",
        "{slug}/notifications/push.py",
        "{slug}/realtime/access.py",
        "tests/test_communicator.py",
    ],
}

# (option, choice) -> files and folders that only that choice uses.
ONLY_FOR = {
    ("auth", "session"): [
        "templates/registration",
        "tests/test_session_auth.py",
    ],
    ("auth", "token"): [
        "tests/test_token_auth.py",
    ],
    ("channel_layer", "redis"): [
        "tests/test_redis_layer.py",
        "deploy/kubernetes/hpa.yaml",
        "deploy/kubernetes/pdb.yaml",
        "deploy/kubernetes/redis.yaml",
    ],
    ("tasks", "celery"): [
        "config/celery.py",
        "{slug}/jobs",
        "{slug}/chat/static/chat/jobs.js",
        "{slug}/chat/static/chat/jobs.css",
        "docs/jobs.md",
        "tests/test_jobs.py",
        "deploy/kubernetes/worker.yaml",
        "tests/test_job_metrics.py",
    ],
    ("workshop", "exercises"): [
        "conftest.py",
        "{slug}/workshop",
        "docs/workshop.md",
    ],
}


def choice_options(config):
    """option -> its choices, from cookiecutter.json as it was read: every key whose value
    is a list, but the private ones (``_...``). The template's test suite reads its
    options with this function too."""
    return {
        key: value
        for key, value in config.items()
        if not key.startswith("_") and isinstance(value, list)
    }


class MissingVariant(Exception):
    """The template has no file for a chosen choice."""


def variant_path(path, choice):
    path = Path(path)
    return path.with_name(f"{path.stem}_{choice}{path.suffix}")


def variant_files(slug, options, choices):
    """[(plain path, chosen variant, other variants)] of every variant file; raises
    MissingVariant, before anything is changed, when a chosen variant is missing."""
    files = []
    for option, paths in VARIANTS.items():
        for path in paths:
            path = Path(path.format(slug=slug))
            chosen = variant_path(path, options[option])
            if not chosen.is_file():
                raise MissingVariant(
                    f"{chosen} is missing: the template has no {option}={options[option]} "
                    f"variant of {path}"
                )
            others = [variant_path(path, c) for c in choices[option] if c != options[option]]
            files.append((path, chosen, others))
    return files


def keep_chosen_variants(files):
    for path, chosen, others in files:
        chosen.rename(path)
        for other in others:
            other.unlink()


def remove(path):
    path = Path(path)
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()


def remove_unused_files(slug, options):
    for (option, choice), paths in ONLY_FOR.items():
        if options[option] != choice:
            for path in paths:
                remove(path.format(slug=slug))


def write_local_env():
    """A fresh secret per baked project, in the git-ignored local env file."""
    env_example = Path(".env.example").read_text()
    secret = secrets.token_urlsafe(50)
    Path(".env").write_text(
        re.sub(
            r"^DJANGO_SECRET_KEY=$",
            f"DJANGO_SECRET_KEY={secret}",
            env_example,
            flags=re.MULTILINE,
        )
    )


def python_version(command):
    """What ``command --version`` says (e.g. "Python 3.11.2"), or None if it cannot run."""
    try:
        result = subprocess.run(
            [command, "--version"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except OSError:
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def new_enough(version, minimum):
    numbers = re.match(r"Python (\d+)\.(\d+)", version or "")
    return numbers is not None and tuple(map(int, numbers.groups())) >= minimum


def python_command(required):
    """``(command, note)``: the first Python on PATH that is new enough (``required``,
    e.g. "3.12") to create the project's environment, and what to say about the choice
    (None: nothing to say)."""
    major, minor = (int(part) for part in required.split("."))
    newer = [f"python{major}.{m}" for m in range(minor + 10, minor - 1, -1)]
    python3 = python_version("python3") if shutil.which("python3") else None
    if new_enough(python3, (major, minor)):
        return "python3", None
    found = python3 or "not on PATH"
    for command in newer:
        if shutil.which(command) and new_enough(python_version(command), (major, minor)):
            return (
                command,
                f"python3 is {found}; the project needs {required} or newer: {command} is.",
            )
    note = (
        f"The project needs Python {required} or newer (Django 6.0 requires it), and "
        f"none is on PATH (python3: {found}). Install one, e.g. "
        f"`sudo apt-get install python{required}` (Debian, Ubuntu), "
        f"`brew install python@{required}` (macOS) or `pyenv install {required}`, "
        "then run the steps below."
    )
    return f"python{required}", note


def print_next_steps(context):
    project_dir = Path.cwd().name
    python, note = python_command(context["_python_version"])
    steps = [
        f"cd {project_dir}",
        f"{python} -m venv .venv && . .venv/bin/activate",
        "pip install -r requirements/dev.txt",
        "python manage.py migrate",
    ]
    if context["channel_layer"] == "redis":
        steps.append("redis-server --daemonize yes    # or set REDIS_URL in .env")
    steps += [
        "python manage.py createsuperuser",
        context["__serve_locally"][context["server"]],
    ]
    if context["tasks"] == "celery":
        steps.append(f"{context['__run_worker']}    # in a second terminal")
    lines = ["", f"Baked {project_dir}/. Next steps:", ""]
    if note:
        lines += [*textwrap.wrap(note, width=88), ""]
    lines += [f"    {step}" for step in steps]
    lines += ["", "Then open http://127.0.0.1:8000/ . README.md lists every command."]
    if context["workshop"] == "exercises":
        lines += [
            "A workshop starter: `python manage.py workshop` says which exercises are done",
            "and what to do next; docs/workshop.md is the guide.",
        ]
    print("\n".join(lines))


def main(context, original):
    """``context``: the answers; ``original``: cookiecutter.json as cookiecutter read it."""
    choices = choice_options(original)
    options = {option: context[option] for option in choices}
    try:
        files = variant_files(context["project_slug"], options, choices)
    except MissingVariant as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    keep_chosen_variants(files)
    remove_unused_files(context["project_slug"], options)
    write_local_env()
    print_next_steps(context)
    return 0


if __name__ == "__main__":
    sys.exit(
        main(
            json.loads(r"""{{ cookiecutter | jsonify }}"""),
            json.loads(r"""{{ _cookiecutter | jsonify }}"""),
        )
    )
