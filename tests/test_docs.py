"""The documentation is true to the template: every site builds strictly, and the option
tables list exactly what cookiecutter.json offers.

``mkdocs build --strict`` fails on a broken link or anchor and on a page missing from the
navigation: the template's own site, and each baked project's (the "docs" stage).
"""

import re
import sys
from pathlib import Path

import pytest

from tests.support import options_table
from tests.support.baking import tool_env
from tests.support.options import CHOICE_OPTIONS, REPO_ROOT
from tests.support.processes import run
from tests.support.stages import STAGES, short

MKDOCS = Path(sys.executable).parent / "mkdocs"
# A row of an option table: | `option` | **`default`**, `other` | ... |
OPTION_ROW = re.compile(r"^\| `(\w+)` \| ((?:\*\*`\w+`\*\*|`\w+`)(?:, `\w+`)*) \|", re.MULTILINE)


def build(project, site_dir):
    env = tool_env(NO_MKDOCS_2_WARNING="1")
    run([MKDOCS, "build", "--strict", "--site-dir", site_dir], cwd=project, env=env)


def option_table(markdown):
    """option -> its choices, from the rows of a Markdown option table; the default
    (in bold) first."""
    table = {}
    for option, cells in OPTION_ROW.findall(markdown):
        choices = re.findall(r"(\*\*)?`(\w+)`", cells)
        assert choices[0][0] == "**", f"{option}: the default is not first, in bold: {cells}"
        table[option] = [choice for _, choice in choices]
    return table


def test_the_template_documentation_builds(tmp_path):
    build(REPO_ROOT, tmp_path / "site")


@pytest.mark.parametrize("page", ["README.md", "docs/options.md"])
def test_the_option_tables_list_what_cookiecutter_json_offers(page):
    assert option_table((REPO_ROOT / page).read_text()) == CHOICE_OPTIONS


def test_the_tables_of_what_each_option_changes_are_written_from_the_template():
    """docs/options.md's tables of the files each option changes are what
    tests/support/options_table.py writes from the post-generation hook's ``VARIANTS`` and
    ``ONLY_FOR`` and from the template's Jinja conditions; and every file with Jinja blocks
    has its words on what they change."""
    page = options_table.PAGE.read_text()
    difference = options_table.difference(page)
    assert not difference, (
        f"docs/options.md is not what the template says: run `{options_table.COMMAND}`, "
        f"which changes this:\n{difference}"
    )
    undescribed = options_table.undescribed(page)
    assert not undescribed, f"docs/options.md: say what the Jinja blocks of {undescribed} change"


@pytest.mark.stage("docs")
def test_the_baked_documentation_builds(baked, tmp_path):
    build(baked.path, tmp_path / "site")


# Where the project reads environment variables: settings, start command, health check.
ENV_READ = re.compile(
    r"""env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]+)"|\$\{([A-Z][A-Z0-9_]+):-|environ\.get\("([A-Z][A-Z0-9_]+)\""""
)


@pytest.mark.stage("docs")
def test_every_variable_the_project_reads_is_documented(baked):
    """Each variable read by the settings, deploy/serve.sh or the health check has a row
    in a table of docs/configuration.md or docs/deployment.md."""
    sources = [*baked.path.glob("config/settings/*.py"), *baked.path.glob("deploy/*")]
    read = {
        name
        for path in sources
        if path.is_file()
        for match in ENV_READ.finditer(path.read_text())
        for name in match.groups()
        if name
    }
    docs = "".join(
        (baked.path / "docs" / page).read_text() for page in ("configuration.md", "deployment.md")
    )
    documented = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)`", docs, re.MULTILINE))
    documented |= {
        n
        for row in re.findall(r"^\| (`[A-Z_]+`(?:, `[A-Z_]+`)+) \|", docs, re.MULTILINE)
        for n in re.findall(r"`(\w+)`", row)
    }
    assert read - {"DJANGO_SETTINGS_MODULE"} <= documented, sorted(read - documented)


def test_the_table_of_stages_names_the_combinations_that_stages_py_gives():
    """docs/testing.md's "Combinations" column, row by row, is what tests/support/stages.py
    runs each stage on, in `make test` and in `make test-fast`."""
    rows = re.findall(
        r"^\| ([a-z ,.]+) \| (.+?) \| ",
        (REPO_ROOT / "docs" / "testing.md").read_text(),
        re.MULTILINE,
    )
    documented = {stage: cell for names, cell in rows for stage in names.split(", ")}
    expected = {}
    for stage, (full, fast) in STAGES.items():
        expected[stage] = f"{short(full)} ({short(fast) if fast else 'not run'})"
    expected["soak"] = f"{short(STAGES['soak'][0])} (`make soak` only)"
    assert {stage: documented.get(stage) for stage in STAGES} == expected
