# c360: sources -> postgres_fdw staging -> dbt graph tables -> c360-export -> Neo4j
#
#   make demo   install what the machine lacks, start the local stack, load the
#               sample sources, build the graph tables, export, run the queries
#   make test   the whole test suite (starts its own servers), after lint
#   make unit   the fast tier alone: no servers, seconds

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
C360 := $(BIN)/c360-export
# Every dbt or psql step runs with the stack's connection variables.
WITH_STACK := eval "$$($(C360) stack env)" &&

.PHONY: help deps up down sample attach models build export queries demo \
        ruff lint unit test bench docs clean

help:
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 10

$(BIN)/.installed: exporter/pyproject.toml scripts/install-system-deps.sh
	bash scripts/install-system-deps.sh
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e 'exporter[dev]'
	touch $@

deps: $(BIN)/.installed ## system packages, Neo4j, the virtualenv

profiles.yml: profiles.example.yml
	cp $< $@

up: deps ## start the local PostgreSQL and Neo4j
	$(C360) stack up

down: ## stop them
	$(C360) stack down

sample: up ## (re)load the reference sources of both domains with their sample stories
	$(C360) samples load

attach: up ## attach every active source through postgres_fdw
	$(C360) sources attach

models: attach ## regenerate the parse-time dbt files from the control rows
	$(C360) models generate

build: models profiles.yml ## dbt build: control rows, staging, graph tables, tests
	$(WITH_STACK) $(BIN)/dbt build

export: up ## push the graph tables to Neo4j
	$(C360)

# The banking set includes one person's 360 view, which the access log records.
queries: up ## the streaming queries (the seeds' ten and the headline) and the banking ones
	$(C360) query --all
	$(C360) query --all --domain banking --param person_id=P000001 --as make-demo

demo: sample build export queries ## the whole flow on the sample data

ruff: deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# sqlfluff lints models/ (dbt templater: the literal SQL of each file), then the
# SQL dbt runs, compiled with the macros expanded. Both compile against a built
# database: `make lint` uses the demo stack's, `make test` the test stack's
# (tests/integration/test_repository.py).
lint: ruff profiles.yml ## ruff, and sqlfluff against the demo stack
	$(WITH_STACK) $(BIN)/sqlfluff lint models
	$(WITH_STACK) C360_BIN=$(BIN) scripts/lint-compiled-sql.sh

unit: deps ## the unit tier: pure functions, no servers (tests/unit mirrors exporter/c360)
	$(BIN)/pytest tests/unit

test: ruff profiles.yml ## ruff, then the unit tier and the suite against real servers it starts itself
	$(BIN)/pytest tests/unit tests/integration

bench: up ## benchmarks, e.g. make bench SF=1 (BENCH_ARGS="--compare-with bench/results/1.json")
	$(BIN)/python bench/run.py --scale-factor $(or $(SF),1) $(BENCH_ARGS)

# Ephemeral models are compiled into the models that read them; those of
# models/graph_macro_tests are read by none (they host the macros' unit tests).
DOCS_SELECTION := --exclude config.materialized:ephemeral

# target/index.html (what `dbt docs serve` serves) and target/static_index.html
# (one file, to open directly or share), both showing assets/graph-model.svg on
# the neo4j_graph exposure's page, then a screenshot of that page.
docs: build ## dbt docs in target/, and their screenshot docs/img/dbt-docs-graph-model.png
	bash scripts/install-docs-deps.sh
	$(WITH_STACK) $(BIN)/dbt docs generate --static $(DOCS_SELECTION)
	bash scripts/docs-screenshot.sh target docs/img/dbt-docs-graph-model.png

clean: down
	rm -rf .c360 target logs
