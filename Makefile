# Two entry points for a fresh machine (see README): `make quickstart` and `make test`.
# Both create .venv/ with the project's bounded dependencies on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: quickstart test lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "simkafka needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

quickstart: $(STAMP)
	$(BIN)/simkafka run scenarios/quickstart.yaml
	$(BIN)/simkafka plan scenarios/quickstart.yaml

test: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check simkafka tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
