# The template's entry points. Each installs what it needs on a fresh machine.
#
#   make demo        bake the default project into .demo/ and serve it (DEMO_PORT, 8000)
#   make test        run the template's whole test suite: every option combination
#                    (SHARD=K/N: the K-th of N balanced parts, as the template's CI runs it)
#   make test-fast   bake, lint and check the covering set; the default project's own tests
#   make soak        every combination's own suite SOAK_RUNS (5) times on a busy machine
#   make bench       each covering project's load figures next to a bare ASGI app's
#   make docs        serve the documentation site on http://127.0.0.1:8000
#   make screenshots the documentation's pictures of the pages, taken anew
#
# Python 3.12 or newer is required (Django 6.0). The tests also start redis-server,
# redis-sentinel, nginx, PostgreSQL, Chromium, docker-compose and kubectl (to check the
# compose file and the Kubernetes manifests): `make test` installs them with apt-get when
# they are missing and we are root (tests/system-packages.sh).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
VENV_PYTHON := $(VENV)/bin/python
DEMO_DIR := .demo
DEMO_PORT ?= 8000
# Exits 0 when DEMO_PORT is free on the loopback address.
PORT_FREE = $(PYTHON) -c 'import socket; s = socket.socket(); \
	s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", $(DEMO_PORT)))' 2>/dev/null
SOAK_RUNS ?= 5

# The first Python 3.12+ found: python3 itself, a versioned python3.x, or one of pyenv's.
PYTHON ?= $(shell for p in python3 python3.14 python3.13 python3.12 \
	$(wildcard $(HOME)/.pyenv/versions/3.1[2-9]*/bin/python3); do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; break; }; \
	done)

.PHONY: help demo test test-fast soak bench docs screenshots test-packages

help:
	@sed -n '3,10p' Makefile | cut -c3-

# One environment for the template's tools and every baked project's dependencies.
$(VENV)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is required (Django 6.0)." \
		"Install it (e.g. apt-get install python3.12) or run: make PYTHON=/path/to/python3.12 ..."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV_PYTHON) -m pip install --quiet --upgrade pip
	$(VENV_PYTHON) -m pip install --quiet --group test
	touch $@

test-packages:
	tests/system-packages.sh

SHARD_ARGS = $(if $(SHARD),--shard $(SHARD))

test: $(VENV)/.installed test-packages
	$(VENV_PYTHON) -m pytest $(SHARD_ARGS) $(PYTEST_ARGS)

test-fast: $(VENV)/.installed test-packages
	$(VENV_PYTHON) -m pytest --fast $(SHARD_ARGS) $(PYTEST_ARGS)

# tests/test_soak.py: every flaky test, by id, from SOAK_RUNS runs of each own suite.
soak: $(VENV)/.installed test-packages
	$(VENV_PYTHON) -m pytest --soak $(SOAK_RUNS) $(PYTEST_ARGS)

# The covering set's projects next to a bare ASGI app, measured by their own load tool one
# at a time (-n 0: nothing else on the machine), printed as a table of ratios.
bench: $(VENV)/.installed test-packages
	$(VENV_PYTHON) -m pytest tests/test_bench.py --bench -n 0 $(PYTEST_ARGS)

# The browser stage, which saves the default combination's pages into docs/images/.
screenshots: $(VENV)/.installed test-packages
	$(VENV_PYTHON) -m pytest tests/test_browser.py --screenshots docs/images $(PYTEST_ARGS)

docs: $(VENV)/.installed
	$(VENV)/bin/mkdocs serve

# A light demo: cookiecutter alone to bake, then the default project's own base
# requirements to run it, on DEMO_PORT. A busy port stops it before anything is installed,
# and again just before the server starts.
demo:
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is required (Django 6.0)." \
		"Install it (e.g. apt-get install python3.12) or run: make PYTHON=/path/to/python3.12 ..."; exit 1; }
	@$(PORT_FREE) || { echo "Port $(DEMO_PORT) is busy: pick another, e.g. make demo DEMO_PORT=8001"; exit 1; }
	rm -rf $(DEMO_DIR)
	$(PYTHON) -m venv $(DEMO_DIR)/bake
	$(DEMO_DIR)/bake/bin/python -m pip install --quiet --upgrade pip
	$(DEMO_DIR)/bake/bin/python -m pip install --quiet --group bake
	$(DEMO_DIR)/bake/bin/cookiecutter --no-input --output-dir $(DEMO_DIR) .
	cd $(DEMO_DIR)/realtime_chat \
		&& $(PYTHON) -m venv .venv \
		&& .venv/bin/python -m pip install --quiet -r requirements/base.txt \
		&& .venv/bin/python manage.py migrate --verbosity 0 \
		&& DJANGO_SUPERUSER_PASSWORD=demo-password .venv/bin/python manage.py createsuperuser \
			--noinput --username demo --email demo@example.com \
		&& { $(PORT_FREE) || { echo "Port $(DEMO_PORT) is busy now: make demo DEMO_PORT=<another>"; exit 1; }; } \
		&& echo "Log in as demo / demo-password at http://127.0.0.1:$(DEMO_PORT)/ (Ctrl+C stops)" \
		&& exec .venv/bin/python manage.py runserver 127.0.0.1:$(DEMO_PORT)
