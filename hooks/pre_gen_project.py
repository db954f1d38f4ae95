"""Reject bad answers before cookiecutter writes anything.

Each check prints one line that names the field (or the options) and the rule it broke,
then exits non-zero; cookiecutter stops and removes the project directory.
:func:`combination_error` is also what the template's test suite uses to leave out the
combinations of choices that cannot go together.
"""

import json
import keyword
import re
import sys

# Top-level modules a baked project imports or runs beside its own package. A package
# with one of these names would shadow the real module on sys.path.
RESERVED_SLUGS = {
    "asgiref",
    "asyncio",
    "celery",
    "channels",
    "channels_redis",
    "config",
    "daphne",
    "django",
    "environ",
    "hypothesis",
    "json",
    "kombu",
    "pytest",
    "redis",
    "rest_framework",
    "site",
    "static",
    "templates",
    "test",
    "tests",
    "typing",
    "uvicorn",
    "whitenoise",
}

SLUG_PATTERN = re.compile(r"[a-z_][a-z0-9_]*")
# Deliberately simple: one "@", no spaces, a dot in the domain.
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

# (option, choice) -> (other option, the choices of it that this one needs, why).
REQUIRES = {
    ("tasks", "celery"): (
        "channel_layer",
        ["redis"],
        "the worker is another process: its jobs reach the sockets through Redis",
    ),
}


def slug_error(slug):
    if not SLUG_PATTERN.fullmatch(slug):
        return (
            f"project_slug {slug!r} must be a lowercase Python identifier: "
            "letters a-z, digits and underscores, not starting with a digit"
        )
    if keyword.iskeyword(slug) or keyword.issoftkeyword(slug):
        return f"project_slug {slug!r} is a Python keyword; choose another name"
    if slug in RESERVED_SLUGS or slug in sys.stdlib_module_names:
        return (
            f"project_slug {slug!r} would shadow the module of the same name "
            "that the project imports; choose another name"
        )
    return None


def email_error(email):
    if not EMAIL_PATTERN.fullmatch(email):
        return f"author_email {email!r} is not an email address like name@example.com"
    return None


def combination_error(options, requires=REQUIRES):
    """Why the chosen ``options`` (option -> choice; the whole context will do) cannot go
    together, or None."""
    for (option, choice), (other, allowed, why) in requires.items():
        if options.get(option) == choice and options.get(other) not in allowed:
            return (
                f"{option}={choice} needs {other}={' or '.join(allowed)} ({why}), "
                f"not {other}={options.get(other)}"
            )
    return None


def main(context):
    errors = [
        error
        for error in (
            slug_error(context["project_slug"]),
            email_error(context["author_email"]),
            combination_error(context),
        )
        if error
    ]
    for error in errors:
        print(f"ERROR: {error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(json.loads(r"""{{ cookiecutter | jsonify }}""")))
