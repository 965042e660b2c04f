# The two commands of the README's quick start: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck unit bench clean system-deps

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	@for f in examples/policies/*.yaml; do $(BIN)/slakeeper policy check "$$f" || exit 1; done
	$(BIN)/slakeeper evaluate --policy examples/policies/trulayer.yaml \
		--facts examples/facts/trulayer-2026-10.yaml --period 2026-10 --format table
	$(BIN)/slakeeper demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

system-deps:
	bash scripts/system-deps.sh

unit: $(STAMP) system-deps
	$(BIN)/pytest -q -n 2

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_business_time.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
