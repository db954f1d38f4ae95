"""Before the questions: hand the other hooks every option's choices.

Cookiecutter gives the hooks the chosen value of each option, never the list it was
chosen from. This hook runs in cookiecutter's temporary copy of the template, before
anything is asked, and adds ``_choices`` (option -> its choices) to that copy's
cookiecutter.json, so that cookiecutter.json stays the only list of options and choices.
The template's test suite reads them with the same function.
"""

import json
from pathlib import Path


def choice_options(config):
    """option -> its choices: every key of ``config`` whose value is a list, but the
    private ones (``_...``). The first choice of each is its default."""
    return {
        key: value
        for key, value in config.items()
        if not key.startswith("_") and isinstance(value, list)
    }


def main():
    path = Path("cookiecutter.json")
    config = json.loads(path.read_text())
    config["_choices"] = choice_options(config)
    path.write_text(json.dumps(config, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
