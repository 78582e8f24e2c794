# Portail CDG — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app portal
PORT ?= 5000
CHROMIUM ?= /usr/bin/chromium
APT := $(if $(filter 0,$(shell id -u)),apt-get,sudo apt-get)

.PHONY: run test install migrate demo lint translations chromium clean help

help:
	@echo "make run   — installe, migre, charge la démonstration si la base est vide, lance le portail (web + worker + beat)"
	@echo "make test  — lance toute la suite de tests"
	@echo "make translations — met à jour le catalogue français (pluriels) d'après les sources"

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 ou plus récent est nécessaire.")'
	@# WeasyPrint (PDF conventions) needs Pango from the system.
	@if ! ldconfig -p | grep -q libpangoft2-1.0; then \
	  echo "Installation de Pango pour WeasyPrint (paquets Debian)…"; \
	  $(APT) update -qq && DEBIAN_FRONTEND=noninteractive $(APT) install -y -qq libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core >/dev/null; \
	fi
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
	  $(APT) update -qq && DEBIAN_FRONTEND=noninteractive $(APT) install -y -qq chromium >/dev/null; \
	fi

test: install chromium
	PORTAL_ENV=testing $(PY) -m pytest $(PYTEST_ARGS)

# ruff, then the architecture's contracts written in pyproject.toml ([tool.importlinter]).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

# The French catalogue (portal/translations/fr/LC_MESSAGES/messages.po and its compiled .mo, both committed): the
# plural rule of French and every plural message of the sources. Run it after adding or changing an ngettext or a
# {% pluralize %}; tests/unit/test_i18n.py fails until then.
translations: install
	$(PY) -m portal.common.i18n

clean:
	rm -rf $(VENV) .pytest_cache
