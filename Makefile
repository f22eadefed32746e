# Rounds: `make run` serves the demo on SQLite; `make test` runs the suite on every leg.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: install run test test-sqlite test-postgres lint contracts bench bench-phi e2e graphiql chromium clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed graphiql

# GraphiQL's assets from the npm registry into app/static/graphiql/ (CDN fallback without npm).
graphiql: $(VENV)/.installed
	$(PY) scripts/build_graphiql.py

run: install
	$(PY) -m app db upgrade
	$(PY) -m app seed --if-empty
	$(VENV)/bin/uvicorn app.main:create_app --factory --host 0.0.0.0 --port $(PORT) --proxy-headers --no-access-log

test: install
	PY=$(PY) bash scripts/test.sh

test-sqlite: install
	$(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff check app tests bench migrations
	$(VENV)/bin/ruff format --check app tests bench

contracts: install
	$(PY) -m app.contracts

# Needs PostgreSQL on 127.0.0.1:5432 (BENCH_PG_URL) and wrk (installed with apt-get when missing).
# Pass options with BENCH_ARGS, e.g. make bench BENCH_ARGS="--only stories --duration 5".
bench: install
	@command -v wrk >/dev/null || apt-get install -y -q wrk
	$(PY) bench/run.py $(BENCH_ARGS)

bench-phi: install
	$(PY) bench/phi_bench.py

# A headless Chromium from Debian (never a downloaded browser) for the explorer check.
chromium:
	@command -v chromium >/dev/null 2>&1 || (apt-get update && apt-get install -y --no-install-recommends chromium)

e2e: install chromium
	$(PY) -m pip install --quiet -e '.[e2e]'
	$(PY) -m pytest -q -m e2e tests/e2e --run-e2e

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache build/graphiql app/static/graphiql
