# Portail CDG — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app portal
PORT ?= 5000
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test install migrate demo lint chromium clean help

help:
	@echo "make run   — installe, migre, charge la démonstration si la base est vide, lance le portail (web + worker + beat)"
	@echo "make test  — lance toute la suite de tests"

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 ou plus récent est nécessaire.")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

migrate: install
	$(FLASK) db upgrade

run: export PORTAL_ENV ?= demo
run: install migrate
	$(FLASK) demo load --if-empty
	PORT=$(PORT) $(PY) -m workers.run_all

# Browser tests use Debian's Chromium (never a downloaded browser).
chromium:
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  echo "Installation de Chromium (paquet Debian)…"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi; \
	fi

test: install chromium
	PORTAL_ENV=testing $(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache
