# Shangliang — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export FLASK_APP := wsgi

.PHONY: run test test-postgres test-e2e install install-test translations lint lock check-lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall when the dependencies change; catalogs are compiled on every install.
$(VENV)/.install-stamp: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.test-stamp: $(VENV)/.install-stamp
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

$(VENV)/.dev-stamp: $(VENV)/.install-stamp
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.install-stamp translations

install-test: $(VENV)/.test-stamp translations

translations: $(BIN)/python
	$(BIN)/pybabel compile -d meetings/translations >/dev/null

run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

test: install-test
	$(BIN)/pytest

test-postgres: install-test
	TEST_DATABASE_URL=$(POSTGRES_URL) $(BIN)/pytest

# The four stories in Chromium (/usr/bin/chromium, never a downloaded browser);
# screenshots of every step go to test-artifacts/e2e/.
test-e2e: install-test
	$(BIN)/pytest -m e2e tests/e2e

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The deploy installs from requirements.lock: every package pinned, with its
# hashes, resolved from setup.cfg for Python 3.11 on Linux x86_64 (setuptools
# and wheel included, to build the app without fetching anything unhashed).
# `make lock` after editing setup.cfg keeps the other pins; `make lock
# UPGRADE=1` moves every pin to the newest release. `make check-lock` (CI)
# fails when the lock no longer matches setup.cfg.
LOCK := requirements.lock
PIP_COMPILE = $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--all-build-deps --no-emit-index-url --no-emit-find-links

lock: $(VENV)/.dev-stamp
	$(PIP_COMPILE) $(if $(UPGRADE),--upgrade) --output-file=$(LOCK) setup.cfg

# Regenerates from a copy of the lock (so unchanged pins stay put) and compares,
# leaving out the header comment, which names the output file.
check-lock: $(VENV)/.dev-stamp
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	cp $(LOCK) "$$tmp/lock" && \
	$(PIP_COMPILE) --output-file="$$tmp/lock" setup.cfg && \
	awk 'body || !/^#/ { body = 1; print }' $(LOCK) >"$$tmp/old" && \
	awk 'body || !/^#/ { body = 1; print }' "$$tmp/lock" >"$$tmp/new" && \
	if diff -u "$$tmp/old" "$$tmp/new"; then echo "$(LOCK) is current"; \
	else echo "$(LOCK) does not match setup.cfg: run make lock and commit both" >&2; exit 1; fi

# For maintainers: collect new strings into the catalogs.
extract-messages: $(BIN)/python
	$(BIN)/pybabel extract -F babel.cfg -k _l -o meetings/translations/messages.pot --project=shangliang --sort-output --no-location .
	$(BIN)/pybabel update -i meetings/translations/messages.pot -d meetings/translations --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) build *.egg-info
