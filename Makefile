# Two commands, both from a fresh clone (see README):
#   make run    install into .venv and start Ladder
#   make test   install into .venv (with test tools) and run the whole test suite (what CI runs)
#   make test-fast   the same without the tests marked slow: no embedding model, no servers
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
# pytest-xdist: each test file whole on one worker (module fixtures such as servers start once), in the order
# tests/conftest.py gives (files needing the real model last: xdist would start the largest files first, and a
# worker would sit waiting for the model's build). One worker more than cores: end-to-end tests spend much of
# their time waiting on servers and sockets, and the third worker fills those waits.
PYTEST_WORKERS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) + 1 )))
XDIST  := -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder

.PHONY: run test test-fast install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Stamps make a second `make run` start at once; they are redone when pyproject.toml changes.
# torch first, pinned: it resolves to the local CPU wheel instead of CUDA builds.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[build]'
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[build,test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(BIN)/python -m bot $(ARGS)

test: install-test
	$(BIN)/python -m pytest $(XDIST) $(PYTEST_ARGS)

test-fast: install-test
	$(BIN)/python -m pytest -m "not slow" $(XDIST) $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) index/*/ index/manifest.json
