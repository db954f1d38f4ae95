"""The tables of docs/options.md that say which files each option changes, written from
the template itself, so that they cannot drift from it.

- "Files by option": the post-generation hook's own tables, ``VARIANTS`` (one file per
  choice) and ``ONLY_FOR`` (files that one choice keeps).
- "Short Jinja blocks": every rendered file of the template whose ``{% if %}`` or inline
  ``if`` tests an option, directly (``cookiecutter.tasks``) or through a name set from one
  (``{% set celery = cookiecutter.tasks == "celery" %}``), with the options it tests. Its
  last column, what the blocks add or change, is prose: it is kept from the page, row by
  row, and a new row gets an empty one to fill in.

Rewrite both tables in the page with::

    .venv/bin/python -m tests.support.options_table

tests/test_docs.py fails, naming this command, while the page differs from what it writes.
"""

import difflib
import fnmatch
import re

from cookiecutter.environment import StrictEnvironment
from jinja2 import nodes

from tests.support.options import CHOICE_OPTIONS, COOKIECUTTER_JSON, POST_GEN, REPO_ROOT

PAGE = REPO_ROOT / "docs" / "options.md"
TEMPLATE = REPO_ROOT / "{{cookiecutter.project_slug}}"
COMMAND = ".venv/bin/python -m tests.support.options_table"
FILES_BY_OPTION = "files by option"
JINJA_BLOCKS = "short Jinja blocks"
# A generated table sits between these two lines of the page (comments: not shown).
BEGIN = "<!-- {name}: written by `" + COMMAND + "`; edit the template, then run it -->"
END = "<!-- end of {name} -->"
# A row of the Jinja table: | `path` | options | what it adds or changes |
JINJA_ROW = re.compile(r"^\| `([^`]+)` \| [^|]* \| (.*) \|$", re.MULTILINE)


def shown(path):
    """A path of the hook's tables as the page shows it: the package as ``<slug>``, a
    folder with a trailing slash."""
    in_template = TEMPLATE / path.format(slug="{{cookiecutter.project_slug}}")
    return f"`{path.format(slug='<slug>')}{'/' if in_template.is_dir() else ''}`"


def files_by_option():
    """The table of VARIANTS and ONLY_FOR, one row per option."""
    lines = [
        "| Option | One file per choice (`VARIANTS`) | Kept for one choice only (`ONLY_FOR`) |",
        "| --- | --- | --- |",
    ]
    for option in CHOICE_OPTIONS:
        variants = ", ".join(shown(path) for path in POST_GEN.VARIANTS.get(option, []))
        only_for = "; ".join(
            f"`{choice}`: " + ", ".join(shown(path) for path in paths)
            for (owner, choice), paths in POST_GEN.ONLY_FOR.items()
            if owner == option
        )
        lines.append(f"| `{option}` | {variants or '–'} | {only_for or '–'} |")
    return "\n".join(lines)


def options_tested(template_source):
    """The options that a template's ``if`` tests, in cookiecutter.json's order."""
    tree = StrictEnvironment(context={"cookiecutter": COOKIECUTTER_JSON}).parse(template_source)
    aliases = {}  # a name {% set %} from an expression -> the options in that expression

    def options_in(expression):
        found = set()
        for node in [expression, *expression.find_all((nodes.Getattr, nodes.Name))]:
            if isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name):
                if node.node.name == "cookiecutter" and node.attr in CHOICE_OPTIONS:
                    found.add(node.attr)
            elif isinstance(node, nodes.Name):
                found |= aliases.get(node.name, set())
        return found

    for assign in tree.find_all(nodes.Assign):
        if isinstance(assign.target, nodes.Name):
            aliases[assign.target.name] = options_in(assign.node)
    tested = set().union(*(options_in(c.test) for c in tree.find_all((nodes.If, nodes.CondExpr))))
    return [option for option in CHOICE_OPTIONS if option in tested]


def jinja_conditions():
    """Template path -> the options its Jinja conditions test, for every rendered file
    that tests one (cookiecutter copies ``_copy_without_render`` files as they are)."""
    copied = COOKIECUTTER_JSON.get("_copy_without_render", [])
    found = {}
    for path in sorted(TEMPLATE.rglob("*")):
        name = path.relative_to(TEMPLATE).as_posix()
        if not path.is_file() or any(fnmatch.fnmatch(name, glob) for glob in copied):
            continue
        try:
            source = path.read_text()
        except UnicodeDecodeError:
            continue
        if tested := options_tested(source):
            found[name] = tested
    return found


def jinja_blocks(described):
    """The table of files with short Jinja blocks; ``described``: path -> the text of its
    last column, as the page has it."""
    lines = ["| File | Options it tests | What it adds or changes |", "| --- | --- | --- |"]
    for path, options in jinja_conditions().items():
        tested = ", ".join(f"`{option}`" for option in options)
        lines.append(f"| `{path}` | {tested} | {described.get(path, '')} |")
    return "\n".join(lines)


def block(page, name):
    """The generated table ``name`` of ``page`` (its text between the markers)."""
    begin, end = BEGIN.format(name=name), END.format(name=name)
    if page.count(begin) != 1 or page.count(end) != 1:
        raise ValueError(f"{PAGE.name} needs one line `{begin}` and one `{end}`")
    return page.split(begin, 1)[1].split(end, 1)[0]


def descriptions(page):
    """path -> what its Jinja blocks add or change, from the page's Jinja table."""
    return dict(JINJA_ROW.findall(block(page, JINJA_BLOCKS)))


def rendered(page):
    """``page`` with both tables written anew."""
    tables = {
        FILES_BY_OPTION: files_by_option(),
        JINJA_BLOCKS: jinja_blocks(descriptions(page)),
    }
    for name, table in tables.items():
        block(page, name)  # there, once
        before, rest = page.split(BEGIN.format(name=name))
        _, after = rest.split(END.format(name=name))
        # Blank lines around the table: Markdown ends the comment's HTML block there.
        page = f"{before}{BEGIN.format(name=name)}\n\n{table}\n\n{END.format(name=name)}{after}"
    return page


def undescribed(page):
    """The files of the Jinja table whose last column is still empty."""
    return [path for path, text in descriptions(page).items() if not text.strip()]


def difference(page):
    """What running the command would change in ``page``, as a unified diff."""
    lines = difflib.unified_diff(
        page.splitlines(), rendered(page).splitlines(), "docs/options.md", COMMAND, lineterm=""
    )
    return "\n".join(lines)


if __name__ == "__main__":
    PAGE.write_text(rendered(PAGE.read_text()))
    if missing := undescribed(PAGE.read_text()):
        print(f"Say in {PAGE.relative_to(REPO_ROOT)} what the blocks of these files change:")
        print("\n".join(f"  {path}" for path in missing))
