# guanxi: every task of the project is a target here; `make` alone lists them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VALIDATE = $(BIN)/python -m pipeline validate datapackage.json
VERSION = $(shell $(BIN)/python -c "import json; print(json.load(open('datapackage.json'))['version'])")

.DEFAULT_GOAL := help
.PHONY: help install validate test lint release fmt docs bench clean lock

help: ## List the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

install: $(STAMP) ## Create .venv and install the pinned dependencies

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e ".[pipeline,dev]"
	@touch $(STAMP)

validate: install ## Check the data package; errors name file, line and column
	$(VALIDATE)

lint: install ## Run ruff over the code and tests
	$(BIN)/ruff check pipeline tests

test: install ## Run ruff, the test suite and the validator
	$(BIN)/ruff check pipeline tests
	$(BIN)/python -m pytest -q
	$(VALIDATE)

release: install ## Build the release of the version in datapackage.json into dist/
	$(BIN)/python -m pipeline release datapackage.json --out dist

fmt: install ## Rewrite the CSV files in canonical form
	$(BIN)/python -m pipeline fmt datapackage.json

docs: install ## Regenerate the data dictionary and the codes table from the schemas
	$(BIN)/python -m pipeline docs datapackage.json

bench: install ## Time validation of 1,000,000 synthetic rows against frictionless and pyarrow
	$(BIN)/python -m pipeline.bench --rows 1000000 --out bench

lock: install ## Rewrite requirements.lock from the installed environment
	@{ echo "# Exact versions that 'make install' installs (regenerate with 'make lock')."; \
	  $(BIN)/python -m pip freeze --all --exclude-editable | grep -v -e '^-e' -e '^pip=='; } > requirements.lock

clean: ## Remove the virtual environment, builds and caches
	rm -rf $(VENV) dist bench build *.egg-info .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
