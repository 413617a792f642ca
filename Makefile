# Two commands do all set-up on a fresh machine: `make book`, then `make test`.
SHELL := /bin/bash
# MXNet 1.9.1 needs Python <= 3.11: prefer python3.11 where it is installed.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(abspath $(VENV))/bin
# nbgrader runs `alembic` from PATH, so the environment's bin/ comes first.
export PATH := $(BIN):$(PATH)
export PYTHONWARNINGS := ignore::DeprecationWarning

.PHONY: book test release venv constraints clean

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt constraints.txt pyproject.toml
	@$(PYTHON) book/check_python.py
	$(PYTHON) -m venv $(VENV)
	@echo "installing the pinned packages into $(VENV) (about a minute)"
	set -o pipefail; $(BIN)/python -m pip install --quiet -r requirements.txt -c constraints.txt 2>&1 | { grep -v "is ignored: it is neither" || true; }
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# Build the site into _build/html. -W: a notebook that fails to execute fails the build
# (jupyter-book alone would exit 0).
book: venv
	@start=$$(date +%s); \
	$(BIN)/jupyter-book build . -W --keep-going || exit 1; \
	echo "book built in $$(( $$(date +%s) - start )) s: _build/html/index.html"

# Regenerate the student notebooks in chapters/ from solutions/ (commit both).
release: venv
	$(BIN)/python -m book.release

test: venv
	$(BIN)/python -m pytest

# Re-pin every package after changing requirements.txt.
constraints: venv
	{ echo "# Every package of the course's virtual environment, pinned (pip freeze of a working install)."; \
	  echo "# Refresh with: make constraints"; \
	  $(BIN)/python -m pip freeze --exclude-editable; } > constraints.txt

clean:
	rm -rf _build
