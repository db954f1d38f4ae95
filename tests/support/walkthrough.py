"""A README's steps, followed literally, as a reader would follow them.

A walk-through is a section of Markdown whose code blocks are the steps, in order:

- a ``sh`` block: commands, run in the project's root;
- a ``python`` block: a file to write, named by the first backticked ``*.py`` path of
  the paragraph that leads into the block;
- a ``diff`` block: a patch, applied with ``git apply`` as the reader would.
"""

import re
from dataclasses import dataclass

BLOCK = re.compile(
    r"(?P<lead>(?:[^\n]+\n)*?[^\n]*)\n*```(?P<kind>\w+)\n(?P<body>.*?)\n```", re.DOTALL
)
PY_PATH = re.compile(r"`([\w./-]+\.py)`")


@dataclass
class Step:
    kind: str  # "sh", "python" or "diff"
    body: str
    path: str | None = None  # where a python block goes


def section(markdown, heading):
    """The text under ``## heading``, up to the next heading of that level."""
    after = markdown.split(f"\n## {heading}\n", 1)[1]
    return after.split("\n## ", 1)[0]


def steps(text):
    """Every step of a walk-through section, in order."""
    found = []
    for match in BLOCK.finditer(text):
        kind, body = match["kind"], match["body"]
        path = None
        if kind == "python":
            paragraph = match["lead"].strip().split("\n\n")[-1]
            named = PY_PATH.search(paragraph)
            assert named, f"no file named before the block:\n{paragraph}\n{body[:200]}"
            path = named.group(1)
        found.append(Step(kind, body + "\n", path))
    return found
