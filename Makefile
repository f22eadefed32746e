# Rounds: `make run` serves the demo on SQLite; `make test` runs the suite on every leg.
# The distribution's optimized CPython when the machine has one (scripts/pick_python.sh).
PYTHON ?= $(shell sh scripts/pick_python.sh)
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
HOST ?= 127.0.0.1
# Every install (make, CI, the Dockerfile) comes from uv.lock; uv itself is pinned here.
UV_VERSION := 0.13.8
UV := $(VENV)/bin/uv
UV_SYNC = UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --locked --inexact --python $(PY)

.PHONY: install native explorers run test test-sqlite fuzz test-postgres lint typecheck lint-imports contracts bench bench-phi bench-search e2e graphiql chromium clean upgrade lock contract-tools lint-contracts clients

$(UV):
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet 'uv==$(UV_VERSION)'

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV_SYNC) --quiet --extra dev
	touch $@

# Refresh the lock to the newest versions the bounds in pyproject.toml allow, then prove them.
upgrade: $(VENV)/.installed
	$(UV) lock --upgrade
	$(UV_SYNC) --extra dev
	$(MAKE) test

# Re-resolve after editing dependencies in pyproject.toml (keeps every other pin).
lock: | $(UV)
	$(UV) lock

install: $(VENV)/.installed explorers native

# The PHI detector compiled with mypyc (scripts/build_native.py, about a minute of gcc), rebuilt
# when its source changes; app/phi/__init__.py loads it only while it matches that source.
NATIVE_STAMP := app/phi/_native/detector.sha256
$(NATIVE_STAMP): app/phi/detector.py app/phi/prefilter.py scripts/build_native.py $(VENV)/.installed
	@mkdir -p build
	$(PY) scripts/build_native.py > build/native.log 2>&1 || (cat build/native.log; exit 1)
	@tail -n 1 build/native.log

native: $(NATIVE_STAMP)

# The explorers' assets (GraphiQL, Swagger UI) from the npm registry into app/static/
# (CDN fallback without npm).
explorers: $(VENV)/.installed
	$(PY) scripts/build_explorers.py

graphiql: explorers

run: install
	$(PY) -m app db upgrade
	$(PY) -m app seed --if-empty
	$(VENV)/bin/uvicorn app.main:create_app --factory --host $(HOST) --port $(PORT) --proxy-headers --no-access-log

test: install
	PY=$(PY) bash scripts/test.sh

# Differential fuzzing of the GraphQL fast path (tests/graphql/test_differential.py): many
# generated documents with a random seed, on both legs. FUZZ_EXAMPLES=N to change the count.
FUZZ_EXAMPLES ?= 2000
fuzz: install
	ROUNDS_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) ROUNDS_FUZZ_RANDOM=1 PY=$(PY) bash scripts/test.sh tests/graphql/test_differential.py

test-sqlite: install
	$(PY) -m pytest -q

lint: install typecheck lint-imports
	$(VENV)/bin/ruff check app tests bench migrations
	$(VENV)/bin/ruff format --check app tests bench migrations

# mypy over app/ (settings in pyproject.toml): 0 errors is the gate.
typecheck: install
	$(VENV)/bin/mypy

# The layer contracts of pyproject.toml's [tool.importlinter] (core and db import no domain).
lint-imports: install
	$(VENV)/bin/lint-imports

contracts: install
	$(PY) -m app.contracts

# Contract tooling from the npm registry, pinned by tests/clients/typescript/package-lock.json,
# installed into build/contract-tools (like the explorers' assets). Redocly and Spectral lint
# the OpenAPI document; openapi-typescript and graphql-codegen generate the example client's
# types from the committed contracts, and tsc --strict checks the client against them.
CONTRACT_TOOLS := build/contract-tools
CLIENT_DIR := tests/clients/typescript
NODE_BIN := $(CLIENT_DIR)/node_modules/.bin
export REDOCLY_TELEMETRY := off
export REDOCLY_SUPPRESS_UPDATE_NOTICE := true

$(CONTRACT_TOOLS)/.installed: $(CLIENT_DIR)/package.json $(CLIENT_DIR)/package-lock.json
	mkdir -p $(CONTRACT_TOOLS)
	cp $(CLIENT_DIR)/package.json $(CLIENT_DIR)/package-lock.json $(CONTRACT_TOOLS)/
	cd $(CONTRACT_TOOLS) && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	ln -sfn ../../../$(CONTRACT_TOOLS)/node_modules $(CLIENT_DIR)/node_modules
	touch $@

contract-tools: $(CONTRACT_TOOLS)/.installed

lint-contracts: contract-tools
	$(NODE_BIN)/redocly lint openapi/openapi.json --config openapi/redocly.yaml
	$(NODE_BIN)/spectral lint openapi/openapi.json --ruleset openapi/spectral.yaml --fail-severity=warn

clients: contract-tools
	rm -rf $(CLIENT_DIR)/generated
	$(NODE_BIN)/openapi-typescript openapi/openapi.json -o $(CLIENT_DIR)/generated/openapi.ts
	cd $(CLIENT_DIR) && node_modules/.bin/graphql-codegen --config codegen.yml
	cd $(CLIENT_DIR) && node_modules/.bin/tsc -p tsconfig.json

# Needs PostgreSQL on 127.0.0.1:5432 (BENCH_PG_URL) and wrk (installed with apt-get when missing).
# Pass options with BENCH_ARGS, e.g. make bench BENCH_ARGS="--only stories --duration 5".
bench: install
	@command -v wrk >/dev/null || apt-get install -y -q wrk
	$(PY) bench/run.py $(BENCH_ARGS)

bench-phi: install
	$(PY) bench/phi_bench.py
	$(PY) bench/phi_probes.py

# Search p99 over 100k stories on PostgreSQL (BENCH_PG_URL), through the API; exit 1 above 50 ms.
bench-search: install
	$(PY) bench/search_bench.py $(BENCH_ARGS)

# A headless Chromium from Debian (never a downloaded browser) for the explorer check.
chromium:
	@command -v chromium >/dev/null 2>&1 || (apt-get update && apt-get install -y --no-install-recommends chromium)

e2e: install chromium
	$(UV_SYNC) --quiet --extra dev --extra e2e
	$(PY) -m pytest -q -m e2e tests/e2e --run-e2e

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache .import_linter_cache .grimp_cache build/graphiql build/swagger-ui build/contract-tools app/static/graphiql app/static/swagger-ui tests/clients/typescript/node_modules tests/clients/typescript/generated app/phi/_native build/native.log
