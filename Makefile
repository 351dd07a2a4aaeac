# Two entry points for a fresh machine (see README): `make quickstart` and `make test`.
# Both create .venv/ with the project's bounded dependencies on first use. A third,
# `make notebooks`, opens the notebook course in JupyterLab.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NOTEBOOK_STAMP := $(VENV)/.notebooks-installed

.PHONY: quickstart test lint notebooks clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "simkafka needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

quickstart: $(STAMP)
	$(BIN)/simkafka run scenarios/quickstart.yaml
	$(BIN)/simkafka plan scenarios/quickstart.yaml

# one worker per core; a module's tests stay on one worker, so a module's expensive
# fixtures (a calibration, a plan) are built once
test: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n auto --dist loadscope

$(NOTEBOOK_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,notebooks]'
	touch $(NOTEBOOK_STAMP)

# The course in a browser. In a git clone, nbstripout's filter is installed in this clone's
# own config (.git/config and .git/info/attributes, nothing tracked) so that outputs never
# reach a commit. Jupyter refuses to run as root unless told: a container's root user is.
notebooks: $(NOTEBOOK_STAMP)
	if git rev-parse --git-dir >/dev/null 2>&1; then $(BIN)/nbstripout --install; fi
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/

lint: $(STAMP)
	$(BIN)/ruff check simkafka tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
