"""Reading a bake's files: template leftovers, variant files, the local .env."""

import re
from fnmatch import fnmatch
from pathlib import PurePosixPath

from django.template import defaulttags, loader_tags
from django.templatetags import cache, i18n, l10n, static, tz

from tests.support.options import CHOICE_OPTIONS, POST_GEN

# Every tag Django itself ships (builtins and the contrib libraries a template may
# {% load %}), their end tags, and the intermediate tags of block tags.
DJANGO_TAG_LIBRARIES = (defaulttags, loader_tags, i18n, static, l10n, tz, cache)
DJANGO_TAGS = {name for lib in DJANGO_TAG_LIBRARIES for name in lib.register.tags}
DJANGO_TAGS |= {f"end{name}" for name in DJANGO_TAGS}
DJANGO_TAGS |= {"else", "elif", "empty", "plural"}

TEMPLATE_TAG = re.compile(r"\{%-?\s*(\w+)")
JINJA_WHITESPACE_CONTROL = re.compile(r"\{[%{#]-|-[%}#]\}")
GITHUB_EXPRESSION = re.compile(r"\$\{\{")
TEMPLATE_SYNTAX = ("{{", "{%", "{#")


def is_django_template(path):
    path = PurePosixPath(path)
    return path.suffix == ".html" and "templates" in path.parts[:-1]


def is_github_workflow(path):
    return fnmatch(path, ".github/workflows/*.yml") or fnmatch(path, ".github/workflows/*.yaml")


def leftovers_in_line(path, line):
    """What in one line of a baked file looks like an unrendered template leftover."""
    problems = []
    if "cookiecutter." in line:
        problems.append("mentions 'cookiecutter.'")
    if is_django_template(path):
        if "cookiecutter" in line.lower() and not problems:
            problems.append("mentions cookiecutter")
        if JINJA_WHITESPACE_CONTROL.search(line):
            problems.append("Jinja whitespace control ({%- or -%})")
        for tag in TEMPLATE_TAG.findall(line):
            if tag not in DJANGO_TAGS:
                problems.append(f"{{% {tag} %}} is not a Django tag")
        return problems
    checked = GITHUB_EXPRESSION.sub("", line) if is_github_workflow(path) else line
    problems += [f"contains {s!r}" for s in TEMPLATE_SYNTAX if s in checked]
    return problems


def leftovers(files):
    """'path:line: problem: text' for every leftover in a baked project's files."""
    found = []
    for path, content in files.items():
        if any(s in path for s in (*TEMPLATE_SYNTAX, "cookiecutter")):
            found.append(f"{path}: unrendered file name")
        try:
            text = content.decode()
        except UnicodeDecodeError:
            continue  # binary, e.g. an image
        for number, line in enumerate(text.splitlines(), start=1):
            for problem in leftovers_in_line(path, line):
                found.append(f"{path}:{number}: {problem}: {line.strip()[:120]}")
    return found


def variant(path, choice):
    """``<stem>_<choice><suffix>`` of a plain path."""
    path = PurePosixPath(path)
    return path.with_name(f"{path.stem}_{choice}{path.suffix}").as_posix()


def unresolved_variants(files, slug, combination):
    """What the post-generation hook should have done and did not, by its own tables:
    every variant renamed to its plain name, the other choices' variants and the files
    only other choices use removed."""
    found = []
    for option, paths in POST_GEN.VARIANTS.items():
        for path in paths:
            path = path.format(slug=slug)
            if path not in files:
                found.append(f"{path} is missing: the {option} variant was not renamed")
            for choice in CHOICE_OPTIONS[option]:
                if variant(path, choice) in files:
                    found.append(f"{variant(path, choice)} is left over ({option}={choice})")
    for (option, choice), paths in POST_GEN.ONLY_FOR.items():
        for path in paths:
            path = path.format(slug=slug)
            present = path in files or any(f.startswith(f"{path}/") for f in files)
            if present != (combination[option] == choice):
                state = "present" if present else "missing"
                found.append(f"{path} is {state} with {option}={combination[option]}")
    return found


def env_values(text):
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip().strip("'\"")
    return values
