# donation-watch: every set-up step lives here, so a fresh clone needs only `make run` or `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RUN_STAMP  := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-dev
CONFIG ?= config/example.toml
PYTEST_ARGS ?=

.PHONY: run test bench demo postgres chromium ab clean help

help:
	@echo "make run    - install and run the bot with $(CONFIG) (console output without a Discord token)"
	@echo "make test   - install dev dependencies and test tools, run the whole suite (SQLite and PostgreSQL)"
	@echo "make bench  - run the benchmarks in benchmarks/"
	@echo "make demo   - offline demo: a local Ethereum node, four donations, the bot in console mode"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $@ $(RUN_STAMP)

# Start this machine's PostgreSQL if it is installed but stopped; without it the suite skips the
# PostgreSQL half loudly (and fails instead when REQUIRE_POSTGRES=1, as in CI).
postgres:
	@if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -q -h 127.0.0.1 -p 5432; then \
	  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then \
	    echo "starting PostgreSQL"; \
	    pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -n 1) main start || true; \
	  fi; \
	fi

# anvil (Foundry's local Ethereum node) for the Ethereum watcher's tests and benchmark, pinned in
# package-lock.json and installed into node_modules/.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# Debian's chromium (and its driver) for the public page's browser tests; installed only when missing.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver; \
	fi

TEST_TOOLS := $(TEST_STAMP) node_modules/.installed

run: $(RUN_STAMP)
	$(BIN)/donation-watch --config $(CONFIG) run

test: $(TEST_TOOLS) postgres chromium
	$(BIN)/hadolint Dockerfile
	$(BIN)/python -m pytest $(PYTEST_ARGS)

demo: $(TEST_TOOLS)
	$(BIN)/python -m demo

# ApacheBench (C) as the page benchmark's load generator; installed only when missing.
ab:
	@if [ ! -x /usr/bin/ab ]; then \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y apache2-utils; \
	fi

bench: $(TEST_TOOLS) postgres ab
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) node_modules .pytest_cache
