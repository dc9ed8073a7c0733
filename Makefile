# ArtSpot: `make run` serves the embedded default; `make test` runs the suite on PostgreSQL + Redis.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
DEV := DJANGO_SETTINGS_MODULE=artspot.settings.dev

.PHONY: help run serve install install-test services browser test lint check bench clean

help:
	@echo "make run    - install, migrate, load demo content, print the admin login, serve on :$(PORT)"
	@echo "make test   - install with test extras, start PostgreSQL/Redis and install Chromium if needed, lint, run the suite"
	@echo "make lint   - ruff, Django system checks and the missing-migrations check"
	@echo "make clean  - remove .venv and var/ (the embedded default's database and media)"

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

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(DEV) $(BIN)/python manage.py migrate --noinput
	$(DEV) $(BIN)/python manage.py load_demo
	$(DEV) PORT=$(PORT) $(BIN)/python manage.py ensure_admin
	$(DEV) $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

services:
	@bash scripts/ensure_services.sh

browser:
	@bash scripts/ensure_browser.sh

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(DEV) $(BIN)/python manage.py check --fail-level WARNING
	$(DEV) $(BIN)/python manage.py makemigrations --check --dry-run --noinput

test: install-test services browser lint
	$(BIN)/pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var
