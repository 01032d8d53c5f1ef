# apigw-doctor: `make demo` and `make test` work on a fresh machine.
# mitmproxy 12 needs Python >= 3.12; find one even where the default python3 is older.
SHELL := /bin/bash
VENV  := .venv
BIN   := $(VENV)/bin
PYTHON ?= $(shell for p in python3.13 python3.12 python3 \
	$$(ls -d $$HOME/.pyenv/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV); do \
	  if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
	    echo $$p; break; fi; done)
CHROMIUM ?= /usr/bin/chromium

.PHONY: setup setup-runtime demo test test-unit test-browser lint browser bench clean

# `make setup`: the development venv (runtime, the demo's client and the test tools). `make demo` installs only what
# the demo needs (the runtime dependencies and the `demo` extra); `make test` the test extras on top.
setup: $(VENV)/.installed
setup-runtime: $(VENV)/.runtime

$(BIN)/python:
	@if [ -z "$(PYTHON)" ]; then echo "error: need Python >= 3.12 (tried python3.13, python3.12, python3, pyenv versions). Install one, or run: make PYTHON=/path/to/python3.12" >&2; exit 1; fi
	@echo "Using $(PYTHON) ($$($(PYTHON) --version))"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[demo]'
	@touch $@

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[demo,test]'
	@touch $@ $(VENV)/.runtime

demo: setup-runtime
	$(BIN)/apigw-doctor demo

lint: setup
	$(BIN)/ruff check addons tests bench
	$(BIN)/ruff format --check addons tests bench

# Every test: unit, property, end-to-end through real mitmdump/mitmweb, and the browser test.
test: lint test-unit test-browser

test-unit: setup
	$(BIN)/python -m pytest -m "not browser" -q

browser:
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  echo "Installing Debian's chromium for the browser test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi

test-browser: setup browser
	APIGW_DOCTOR_CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest -m browser -q

bench: setup
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
