# The two set-up commands of the README are `make run` and `make test`; everything else builds on them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test test-fast bench check format clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: install
	$(BIN)/harness-connector serve --http

# The whole suite, slow tests included: this is what CI runs.
test: install
	$(BIN)/python -m pytest -m "slow or not slow" -q

# The fast inner loop: slow tests deselected.
test-fast: install
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python -m bench

check: install
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest -m "slow or not slow" -q

format: install
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
