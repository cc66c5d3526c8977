# guanxi: every task of the project is a target here; `make` alone lists them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VALIDATE = $(BIN)/python -m pipeline validate datapackage.json
# The tests run in one process per core (up to four): most of their time is spent in the
# commands they start, one at a time in each test.
TEST_WORKERS = -n auto --maxprocesses 4
VERSION = $(shell $(BIN)/python -c "import json; print(json.load(open('datapackage.json'))['version'])")

# $(call reported,COMMAND,GOAL): run a command whose own output ends with what went wrong (a
# report and its count). When it fails under a plain `make GOAL`, the command's words stay the
# last ones printed: make is ended with SIGPIPE, which shells do not announce, rather than left
# to add its "make: *** [...] Error 1" line; the exit status stays non-zero (141). From another
# make or with other goals, the failure is make's usual one.
reported = @$(1) || { status=$$?; \
	if [ "$(MAKELEVEL)" = 0 ] && [ "$(MAKECMDGOALS)" = $(2) ]; then kill -PIPE $$PPID; fi; exit $$status; }

.DEFAULT_GOAL := help
.PHONY: help install validate test lint bump bump-check release verify version fmt fmt-check docs bench clean lock

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s  %s\n", $$1, $$2}'

install: $(STAMP) ## Create .venv and install the pinned dependencies

# The lock alone decides what is installed (the package itself is an editable install), so a
# version bump in pyproject.toml does not reinstall the environment.
$(STAMP): requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e ".[pipeline,dev]"
	@touch $(STAMP)

validate: install ## Check the data package; errors name file, line and column
	$(call reported,$(VALIDATE),validate)

lint: install ## Run ruff over the code and tests
	$(BIN)/ruff check pipeline tests

test: install ## Run ruff, the test suite and the validator
	$(BIN)/ruff check pipeline tests
	$(BIN)/python -m pytest -q $(TEST_WORKERS)
	$(VALIDATE)

bump: install ## Prepare the next release: version due since the last vX.Y.Z tag, CHANGELOG entry, docs
	$(BIN)/python -m pipeline bump datapackage.json

bump-check: install ## Say which version is due since the last vX.Y.Z tag, writing nothing
	$(BIN)/python -m pipeline bump datapackage.json --check

release: install ## Build the version in datapackage.json into dist/: from this commit, or from its tag if main moved on
	$(BIN)/python -m pipeline release datapackage.json --out dist

verify: install ## Check dist/<version>/ against its checksums, descriptor and zip
	$(BIN)/python -m pipeline verify dist/$(VERSION)

version: ## Print the version in datapackage.json
	@$(PYTHON) -c "import json; print(json.load(open('datapackage.json'))['version'])"

fmt: install ## Rewrite the CSV files in canonical form
	$(call reported,$(BIN)/python -m pipeline fmt datapackage.json,fmt)

fmt-check: install ## List the CSV files fmt would change, writing nothing (fails if any)
	$(call reported,$(BIN)/python -m pipeline fmt datapackage.json --check,fmt-check)

docs: install ## Regenerate the data dictionary and the codes table from the schemas
	$(BIN)/python -m pipeline docs datapackage.json

bench: install ## Time validation of 1,000,000 synthetic and 1,000,000 real-like rows against pyarrow and frictionless
	$(BIN)/python -m pipeline.bench --rows 1000000 --out bench

lock: install ## Rewrite requirements.lock from the installed environment
	@{ echo "# Exact versions that 'make install' installs (regenerate with 'make lock')."; \
	  $(BIN)/python -m pip freeze --all --exclude-editable | grep -v -e '^-e' -e '^pip=='; } > requirements.lock

clean: ## Remove caches and build leftovers (never .venv or the releases in dist/)
	rm -rf bench build *.egg-info .pytest_cache .ruff_cache
	find . -path ./.venv -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
