# Every target a person needs; `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP := $(VENV)/.synced
# The city every org unit lies under (services refuse to start without it). Development and tests
# use Ningbo; a deployment sets its own in the environment (deploy/k8s configmap, compose env).
export CITY_ROOT ?= ningbo

.DEFAULT_GOAL := help

help: ## List every target with one line
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk -F':.*?## ' '{printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}'

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(STAMP): $(BIN)/uv pyproject.toml uv.lock
	UV_PROJECT_ENVIRONMENT=$(VENV) $(BIN)/uv sync --frozen --inexact --quiet
	@# Byte-compile once: where PYTHONDONTWRITEBYTECODE is set, every process would otherwise
	@# compile the whole stack from source at start-up (30-60 s per process on a busy 2-core machine).
	@$(BIN)/python -m compileall -q -j 0 $(VENV)/lib services gateway >/dev/null || true
	@touch $(STAMP)

bootstrap: $(STAMP) ## Create .venv and install the locked dependencies (and, as root with apt, the fonts and poppler)
	@# Reporting's documents need CJK fonts, Pango and poppler: installed when root with apt, else listed.
	@deploy/system-deps.sh || true

run: bootstrap ## Migrate and start the gateway (:8000, or BASE_PORT) and the five services (+1..+5) on SQLite under var/
	$(BIN)/python -m services.devrun

migrate: bootstrap ## Apply every service's migrations (uses the same settings as the services)
	$(BIN)/python -m services.cli migrate
	$(BIN)/python -m gateway.cli migrate

test: bootstrap ## Run the whole suite (TEST_DB=postgres to run it on PostgreSQL)
	$(BIN)/pytest $(PYTEST_ARGS)

test-postgres: bootstrap ## Run the whole suite on PostgreSQL (127.0.0.1:5432)
	TEST_DB=postgres $(BIN)/pytest $(PYTEST_ARGS)

fuzz: bootstrap ## schemathesis over the merged OpenAPI against its own stack (FUZZ_MAX_TIME=240 FUZZ_MAX_EXAMPLES=25)
	$(BIN)/python -m tests.fuzz.run

lint: bootstrap ## ruff, mypy and the import contracts of .importlinter
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy services gateway bench
	$(BIN)/mypy --strict clients/python/src/dangjian docs/examples
	$(BIN)/lint-imports

openapi: bootstrap ## Write the merged OpenAPI document (what the gateway serves) to docs/openapi.json
	$(BIN)/python -m services.apidoc docs/openapi.json

format: bootstrap ## Format and autofix with ruff
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

token: bootstrap ## Mint a development JWT: make token ROLE=city_admin SCOPE=ningbo SUB=u-admin
	@$(BIN)/python -m services.cli token --role $${ROLE:-city_admin} --scope $${SCOPE:-ningbo} --sub $${SUB:-u-admin}

bench: bootstrap ## Run the benchmarks (not part of the suite); figures go to bench/results/ and docs/
	$(BIN)/python -m bench

events: bootstrap ## Regenerate docs/events.md's event types and docs/asyncapi.yaml from services/kit/events/schemas
	$(BIN)/python -m services.eventdoc

lock: $(BIN)/uv ## Re-resolve uv.lock after editing pyproject.toml
	$(BIN)/uv lock

clean: ## Remove var/ (local databases and logs)
	rm -rf var

.PHONY: help bootstrap run migrate test test-postgres fuzz lint openapi events format token bench lock clean
