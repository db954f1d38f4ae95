"""The template's options and their combinations, read from ``cookiecutter.json``."""

import itertools
import json
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
COOKIECUTTER_JSON = json.loads((REPO_ROOT / "cookiecutter.json").read_text())

# Every non-underscore key with a list value is a choice option; the first value of
# each list is its default.
CHOICE_OPTIONS = {
    key: value
    for key, value in COOKIECUTTER_JSON.items()
    if not key.startswith("_") and isinstance(value, list)
}
COMBINATIONS = [
    dict(zip(CHOICE_OPTIONS, values))
    for values in itertools.product(*CHOICE_OPTIONS.values())
]


def combination_id(combination):
    """Readable id such as ``async-session-in_memory-daphne``."""
    return "-".join(combination[option] for option in CHOICE_OPTIONS)


COMBINATION_IDS = [combination_id(c) for c in COMBINATIONS]

# The combinations that the slower stages (fuzz, faults, browser) run on: between them
# they hold every server with every channel layer, every auth option with every server
# and every consumer style with every layer. Tests opt in with
# ``@pytest.mark.combinations(*COVERING)``.
COVERING = (
    "async-session-in_memory-daphne",
    "sync-token-in_memory-uvicorn",
    "sync-token-redis-daphne",
    "async-session-redis-uvicorn",
)
