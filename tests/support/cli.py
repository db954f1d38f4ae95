"""The cookiecutter command line, run as a user runs it."""

import sys

import pytest

from tests.support.processes import run

BAKE_TIMEOUT = 120


@pytest.fixture(scope="session")
def cookiecutter_config(tmp_path_factory):
    """A user config that keeps cookiecutter's replay and clone dirs out of $HOME."""
    home = tmp_path_factory.mktemp("cookiecutter_home")
    config = home / "config.yaml"
    config.write_text(
        f"cookiecutters_dir: '{home / 'cookiecutters'}'\nreplay_dir: '{home / 'replay'}'\n"
    )
    return config


@pytest.fixture
def run_cookiecutter(template_dir, cookiecutter_config, tmp_path):
    """``run_cookiecutter(key=value, ...)``: the cookiecutter CLI with ``--no-input`` and
    these answers, into a fresh output folder; ``template`` bakes another template
    folder, ``env`` replaces the environment. Returns (the Completed run, the folder)."""
    output_dir = tmp_path / "out"
    output_dir.mkdir()

    def bake(template=template_dir, env=None, **answers):
        command = [sys.executable, "-m", "cookiecutter", "--no-input"]
        command += ["--config-file", cookiecutter_config, "-o", output_dir, template]
        command += [f"{key}={value}" for key, value in answers.items()]
        return run(command, env=env, timeout=BAKE_TIMEOUT, check=False), output_dir

    return bake
