# Shangliang — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export FLASK_APP := wsgi

.PHONY: run test test-postgres test-e2e install install-test translations lint clean

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

# For maintainers: collect new strings into the catalogs.
extract-messages: $(BIN)/python
	$(BIN)/pybabel extract -F babel.cfg -k _l -o meetings/translations/messages.pot --project=shangliang --sort-output --no-location .
	$(BIN)/pybabel update -i meetings/translations/messages.pot -d meetings/translations --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) build *.egg-info
