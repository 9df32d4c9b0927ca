# One task runner. `make run` and `make test` do everything on a fresh machine with Python 3.11.
SHELL := /bin/bash
PY := .venv/bin/python
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
ONCE ?=
PYTEST_ARGS ?=

.PHONY: env run stop test lint contracts bench clean

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv

env: $(if $(shell command -v uv 2>/dev/null),,.tools/bin/uv)
	$(UV) sync --all-packages --frozen --quiet

run: env ## bring the whole platform up and drive one disbursement cycle (ONCE=1: then exit)
	$(PY) -m ykt_devstack.cli run $(if $(ONCE),--once)

stop: ## stop everything `make run` started
	@if [ -x $(PY) ]; then $(PY) -m ykt_devstack.cli stop; fi

test: env ## unit, integration and end-to-end tests against real PostgreSQL, Redis and broker
	$(PY) -m pytest $(PYTEST_ARGS)

lint: env ## ruff and mypy, as tests/test_code_quality.py checks them in `make test`
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/python -m pytest tests/test_code_quality.py -q

bench: env ## intake alone: records/s and the registry's peak RSS (BENCH_INTAKE_RECORDS=1000000); then one batch through the whole platform, timed per stage (BENCH_RECORDS=20000)
	$(PY) -m ykt_devstack.bench intake --records $${BENCH_INTAKE_RECORDS:-1000000}
	$(PY) -m ykt_devstack.bench --records $${BENCH_RECORDS:-20000}

contracts: env ## rewrite the checked-in JSON Schemas and AsyncAPI document from the models
	$(PY) -m ykt_contracts.export

clean:
	rm -rf var .pytest_cache
