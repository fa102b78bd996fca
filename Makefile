# GovQMS: the two commands are `make run` and `make test` (see README).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
CATALOG := platform/govqms/translations
BABEL_KEYWORDS := -k _l -k lazy_gettext

.PHONY: run test lint smoke install install-test translations translations-check demo db clean benchmark

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Installed editable, so `govqms` runs this checkout and finds migrations/ and instance/.
$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install --quiet -e '.[postgresql]'
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[postgresql,test]'
	touch $@

# The OpenID Connect provider the sign-in tests start (tests/accounts/test_oidc.py), from the npm registry
# at the versions of its package-lock.json. Without npm the tests say so (and fail under CI=true).
OIDC_PROVIDER := tests/accounts/oidc_provider
$(OIDC_PROVIDER)/node_modules/.package-lock.json: $(OIDC_PROVIDER)/package.json $(OIDC_PROVIDER)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then cd $(OIDC_PROVIDER) && npm ci --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the OpenID Connect sign-in tests cannot start their provider"; fi

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test $(OIDC_PROVIDER)/node_modules/.package-lock.json

db: install
	$(BIN)/govqms db upgrade

demo: db
	$(BIN)/govqms demo

run: demo
	@echo "GovQMS on http://$(HOST):$(PORT)/  (demo logins above; Ctrl-C to stop)"
	$(BIN)/govqms run --host $(HOST) --port $(PORT)

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# pyflakes, pycodestyle, bugbear and isort, as setup.cfg's [tool:ruff] sets them.
lint: install-test
	$(BIN)/python .ci/ruff.py check platform tests

# The production topology on loopback (PostgreSQL and Redis needed): roles and migrations as in
# deploy/, gunicorn with deploy/gunicorn.conf.py, the worker and the scheduler, over real HTTP and SMTP.
# `make test` runs it too.
smoke: install-test
	$(BIN)/python -m pytest -q tests/deploy $(PYTEST_ARGS)

# Figures, not assertions: a generated nation on PostgreSQL, in process and over HTTP on gunicorn;
# the last line printed is one JSON object (tests/benchmarks/scale.py).
benchmark: install-test
	$(BIN)/python -m tests.benchmarks.scale $(BENCHMARK_ARGS)

# Extract the strings, merge them into the catalogues, compile. Commit the .po and .mo files.
translations: install-test
	$(BIN)/pybabel extract -F $(CATALOG)/babel.cfg $(BABEL_KEYWORDS) --no-wrap --sort-by-file \
		-o $(CATALOG)/messages.pot platform/govqms
	$(BIN)/pybabel update -i $(CATALOG)/messages.pot -d $(CATALOG) --no-wrap --ignore-obsolete
	$(BIN)/pybabel compile -d $(CATALOG)

clean:
	rm -rf $(VENV) build dist platform/*.egg-info .pytest_cache
