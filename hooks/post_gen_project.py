"""Shape the baked project to the chosen options, give it a secret, say what is next.

The template keeps one file per variant side by side (``consumers_async.py`` next to
``consumers_sync.py``) instead of long template conditionals. This hook renames the chosen
variant to its plain name and deletes the others, then deletes the files that only other
options use. What is left reads as if it had been written for these options alone.
"""

import re
import secrets
import shutil
import subprocess
import textwrap
from pathlib import Path

SLUG = "{{ cookiecutter.project_slug }}"
PYTHON_VERSION = "{{ cookiecutter._python_version }}"
OPTIONS = {
    "consumers": "{{ cookiecutter.consumers }}",
    "auth": "{{ cookiecutter.auth }}",
    "channel_layer": "{{ cookiecutter.channel_layer }}",
    "server": "{{ cookiecutter.server }}",
}
CHOICES = {
    "consumers": ("async", "sync"),
    "auth": ("session", "token"),
    "channel_layer": ("in_memory", "redis"),
    "server": ("daphne", "uvicorn"),
}

# option -> files that exist once per choice, as "<stem>_<choice><suffix>";
# the chosen one becomes "<stem><suffix>".
VARIANTS = {
    "consumers": [
        f"{SLUG}/realtime/consumers.py",
        f"{SLUG}/echo/consumers.py",
        f"{SLUG}/chat/consumers.py",
        f"{SLUG}/notifications/consumers.py",
    ],
    "auth": [
        f"{SLUG}/realtime/auth.py",
        f"{SLUG}/chat/static/chat/auth.js",
        f"{SLUG}/chat/templates/chat/sign_in.html",
        "tests/clients.py",
    ],
    "channel_layer": [
        f"{SLUG}/realtime/presence.py",
    ],
    "server": [
        "deploy/serve.sh",
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
    ],
}


def variant_path(path, choice):
    path = Path(path)
    return path.with_name(f"{path.stem}_{choice}{path.suffix}")


def keep_chosen_variants():
    for option, paths in VARIANTS.items():
        for path in paths:
            for choice in CHOICES[option]:
                variant = variant_path(path, choice)
                if choice == OPTIONS[option]:
                    variant.rename(path)
                else:
                    variant.unlink()


def remove(path):
    path = Path(path)
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()


def remove_unused_files():
    for (option, choice), paths in ONLY_FOR.items():
        if OPTIONS[option] != choice:
            for path in paths:
                remove(path)


def write_local_env():
    """A fresh secret per baked project, in the git-ignored local env file."""
    env_example = Path(".env.example").read_text()
    secret = secrets.token_urlsafe(50)
    Path(".env").write_text(
        re.sub(r"^DJANGO_SECRET_KEY=$", f"DJANGO_SECRET_KEY={secret}", env_example, flags=re.M)
    )


def python_version(command):
    """What ``command --version`` says (e.g. "Python 3.11.2"), or None if it cannot run."""
    try:
        result = subprocess.run(
            [command, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError:
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def new_enough(version):
    numbers = re.match(r"Python (\d+)\.(\d+)", version or "")
    minimum = tuple(int(part) for part in PYTHON_VERSION.split("."))
    return numbers is not None and tuple(map(int, numbers.groups())) >= minimum


def python_command():
    """``(command, note)``: the first Python on PATH that is new enough to create the
    project's environment, and what to tell about the choice (None: nothing to tell)."""
    major, minor = (int(part) for part in PYTHON_VERSION.split("."))
    newer = [f"python{major}.{m}" for m in range(minor + 10, minor - 1, -1)]
    python3 = python_version("python3") if shutil.which("python3") else None
    if new_enough(python3):
        return "python3", None
    found = python3 or "not on PATH"
    for command in newer:
        if shutil.which(command) and new_enough(python_version(command)):
            note = f"python3 is {found}; the project needs {PYTHON_VERSION} or newer: {command} is."
            return command, note
    note = (
        f"The project needs Python {PYTHON_VERSION} or newer (Django 6.0 requires it), and "
        f"none is on PATH (python3: {found}). Install one, e.g. "
        f"`sudo apt-get install python{PYTHON_VERSION}` (Debian, Ubuntu), "
        f"`brew install python@{PYTHON_VERSION}` (macOS) or `pyenv install {PYTHON_VERSION}`, "
        "then run the steps below."
    )
    return f"python{PYTHON_VERSION}", note


def print_next_steps():
    project_dir = Path.cwd().name
    python, note = python_command()
    run = (
        "python manage.py runserver"
        if OPTIONS["server"] == "daphne"
        else "uvicorn config.asgi:application --reload --lifespan off --ws-max-size 65536"
    )
    steps = [
        f"cd {project_dir}",
        f"{python} -m venv .venv && . .venv/bin/activate",
        "pip install -r requirements/dev.txt",
        "python manage.py migrate",
{%- if cookiecutter.channel_layer == "redis" %}
        "redis-server --daemonize yes    # or set REDIS_URL in .env",
{%- endif %}
        "python manage.py createsuperuser",
        run,
    ]
    lines = ["", f"Baked {project_dir}/. Next steps:", ""]
    if note:
        lines += [*textwrap.wrap(note, width=88), ""]
    lines += [f"    {step}" for step in steps]
    lines += ["", "Then open http://127.0.0.1:8000/ . README.md lists every command."]
    print("\n".join(lines))


def main():
    keep_chosen_variants()
    remove_unused_files()
    write_local_env()
    print_next_steps()


if __name__ == "__main__":
    main()
