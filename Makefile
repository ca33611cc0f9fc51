# Two commands: `make run` (set up, crawl, classify, build the report) and `make test`.
# Each creates .venv and installs what it needs, system packages included.
# `make run` works without the network too: when the Semantic Scholar API cannot be reached,
# `refresh --offline-fallback` says so and builds the database from the snapshot bundled with the package;
# with the network it crawls, classifies and reads the full text of core and related papers (--fulltext).

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
BIN    := $(VENV)/bin
SITE   ?= site
APT    := $(shell command -v sudo >/dev/null 2>&1 && [ "$$(id -u)" != 0 ] && echo sudo) apt-get

.PHONY: run test bench venv test-deps clean help

help:
	@echo "make run    create .venv, crawl the survey's citation graph (or, offline, load the bundled snapshot),"
	@echo "            classify, build the report in $(SITE)/"
	@echo "make test   create .venv with test extras (and Debian's chromium), run the whole test suite"
	@echo "make bench  run every benchmark in benchmarks/"

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(PIP) install --quiet -e '.[test]'
	touch $@

venv: $(VENV)/.installed

test-deps: $(VENV)/.installed-test
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "installing Debian's chromium for the browser tests"; \
		$(APT) update -qq && DEBIAN_FRONTEND=noninteractive $(APT) install -y -qq chromium >/dev/null; \
	fi

run: $(VENV)/.installed
	$(BIN)/rlmllm-graph refresh --offline-fallback --fulltext
	$(BIN)/rlmllm-graph classify
	$(BIN)/rlmllm-graph report --out $(SITE)
	@echo "The report is in $(abspath $(SITE))/: open $(abspath $(SITE))/index.html in a browser"
	@echo "(or run: $(BIN)/rlmllm-graph serve). The database is $${RLMLLM_DB:-data/rlmllm.db};"
	@echo "what this refresh added and changed: $(BIN)/rlmllm-graph changes"

test: test-deps
	$(PY) -m pytest -q

bench: $(VENV)/.installed-test
	@for b in benchmarks/*_bench.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache
