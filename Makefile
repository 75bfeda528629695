# Speaker: two commands on a fresh machine.
#   make run   - create .venv, install, migrate, serve HTTP + websockets on $HOST:$PORT
#                (platform + Piper; the XTTS extra too when the configuration enables
#                it, or with WITH_XTTS=true: docs/voice-cloning.md "Voice cloning")
#   make test  - install (with test requirements and the XTTS extra), ruff in check mode, then the whole pytest suite
#   make key USER=alice - an API key for alice (created if missing), printed on the last line
# Environment variables given to make are passed through (DATABASE_URL, REDIS_URL, PORT, ...).

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8010
export HOST PORT

.PHONY: run test lint install install-dev install-xtts worker migrate key bench browser-deps clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# Stamp files: installs are skipped while the requirements files are unchanged.
$(VENV)/.installed: requirements.txt | $(PY)
	$(PY) -m pip install -q -r requirements.txt
	touch $@

# The voice-cloning extra (torch, coqui-tts): several GB, so only when wanted.
$(VENV)/.installed-xtts: requirements-xtts.txt requirements.txt | $(PY)
	$(PY) -m pip install -q -r requirements-xtts.txt
	touch $(VENV)/.installed $@

$(VENV)/.installed-dev: requirements-dev.txt requirements-agents.txt requirements-xtts.txt requirements.txt | $(PY)
	$(PY) -m pip install -q -r requirements-dev.txt
	$(PY) -m pip install -q --no-deps -r requirements-agents.txt
	touch $(VENV)/.installed $(VENV)/.installed-xtts $@

# yes when the configuration (environment, .env, an installed checkpoint) enables XTTS.
WANT_XTTS = $(shell $(PYTHON) deploy/xtts_wanted.py)

install: $(VENV)/.installed $(if $(filter yes,$(WANT_XTTS)),$(VENV)/.installed-xtts)
install-xtts: $(VENV)/.installed-xtts
install-dev: $(VENV)/.installed-dev

migrate: install
	$(PY) manage.py migrate --noinput

run: migrate
	@echo "Speaker on http://$(HOST):$(PORT)/  (API docs: http://$(HOST):$(PORT)/docs)"
	@echo 'Debug pages (tracebacks) are off unless DEBUG=true; a developer turns them on with: DEBUG=true make run'
	@test -f $(VENV)/.installed-xtts || echo 'Voice cloning is off (Piper only). To switch it on: make install-xtts; $(PY) manage.py xtts install --accept-license; make run (docs/voice-cloning.md).'
	$(VENV)/bin/daphne -b $(HOST) -p $(PORT) speaker_site.asgi:application

# An API key for USER (README "First API call"); the user is created when missing.
# The usage check comes first: `make key` alone must say how to call it, not migrate.
key:
	@test "$(origin USER)" = "command line" || { echo "usage: make key USER=alice" >&2; exit 2; }
	@$(MAKE) -s migrate >/dev/null
	@$(PY) manage.py createapikey "$(USER)" --create-user

# A separate engine worker (PostgreSQL + Redis deployments; see docs/operations.md "Scale-out").
worker: migrate
	$(PY) manage.py runengine

# Debian's Chromium for the browser tests (never a downloaded browser).
browser-deps:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }

# promtool (Prometheus' rule checker, not on PyPI) from Debian's package, unpacked into
# the venv without installing the server: tests/deploy checks the alert rules with it.
PROMTOOL := $(VENV)/tools/usr/bin/promtool
$(PROMTOOL): | $(PY)
	@mkdir -p $(VENV)/tools
	@cd $(VENV)/tools && { apt-get download prometheus >/dev/null 2>&1 || { apt-get update -qq && apt-get download prometheus >/dev/null; }; } \
	  && dpkg -x prometheus_*.deb . && rm -f prometheus_*.deb

# ruff in check mode (ruff.toml says which rules and why): a finding fails the build;
# nothing is fixed here (`ruff check --fix .` and `ruff format .` are for your checkout).
lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: lint browser-deps $(PROMTOOL)
	PROMTOOL=$(abspath $(PROMTOOL)) $(PY) -m pytest

bench: install-dev
	$(PY) bench/engines.py

clean:
	rm -rf $(VENV) db.sqlite3 var staticfiles .pytest_cache
