# The two commands a newcomer needs: `make demo` and `make test`. See README.md.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/jusou
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
# daphne itself closes a WebSocket message over 64 KB (meetings.consumers.MAX_FRAME_BYTES) with 1009
# (config.websocket makes that a clean close), so such a frame is never buffered for the application.
DAPHNE_LIMITS := --websocket-max-message-size 65536 --websocket-max-frame-size 65536
# pytest-xdist workers for `make test` (0: one process). Worker N uses Redis database TEST_REDIS_URL's + N.
# Two workers on the 2-core machine: 976 tests in 8 min 40 s on a loaded machine (one process took 12-13 min).
TEST_WORKERS ?= 2
# The benchmark's own database, filled by `python -m bench.seed_scale` (see BENCHMARKS.md).
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/jusou_bench

.PHONY: demo test install lint format migrate seed serve bench clean

install: $(STAMP) node_modules/.stamp

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required (set PYTHON=/path/to/python3.11)")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	touch $(STAMP)

node_modules/.stamp: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch node_modules/.stamp

# Fresh machine to a running demo on SQLite with the in-memory channel layer.
demo: install
	.ci/ensure-paper
	env -u DATABASE_URL -u REDIS_URL $(PY) manage.py migrate --noinput
	env -u DATABASE_URL -u REDIS_URL $(PY) manage.py seed_demo
	@echo "Serving http://127.0.0.1:8000 with one job worker (Ctrl-C stops both)"
	env -u DATABASE_URL -u REDIS_URL bash -c '$(PY) manage.py run_worker --no-reload & worker=$$!; \
		trap "kill $$worker 2>/dev/null; wait $$worker" EXIT; \
		$(PY) -m daphne $(DAPHNE_LIMITS) -b 127.0.0.1 -p 8000 config.asgi:application'

# The whole suite on PostgreSQL and Redis, browser tests included, plus ruff.
# --create-db: a fresh test database every run, so nothing an earlier run left behind can decide a result.
# With TEST_WORKERS=2: two workers, each with its own test database (<name>_gw0, _gw1); --dist loadgroup keeps
# each security module and the fault tests on one worker (tests/conftest.py). The slowest 15 tests end the run.
test: install
	.ci/ensure-services
	.ci/ensure-chromium
	.ci/ensure-paper
	$(VENV)/bin/ruff check .
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(VENV)/bin/pytest --create-db \
		-n $(TEST_WORKERS) --dist loadgroup --durations=15

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: install
	.ci/ensure-services
	DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(PY) bench/run.py

clean:
	rm -rf $(VENV) node_modules var .pytest_cache
