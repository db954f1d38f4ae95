"""The documentation is true to the template: every site builds strictly, and the option
tables list exactly what cookiecutter.json offers.

``mkdocs build --strict`` fails on a broken link or anchor and on a page missing from the
navigation: the template's own site, and each baked project's (the "docs" stage).
"""

import re
import sys
from pathlib import Path

import pytest

from tests.support.baking import tool_env
from tests.support.options import CHOICE_OPTIONS, REPO_ROOT
from tests.support.processes import run

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


@pytest.mark.stage("docs")
def test_the_baked_documentation_builds(baked, tmp_path):
    build(baked.path, tmp_path / "site")
