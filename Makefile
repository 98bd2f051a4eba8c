# CSM developer and demo entry points.  Each target sets up what it needs (see scripts/bootstrap).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   ?= demo-host

.PHONY: help host host-test venv compile test check lint demo bench docs dist clean

help:
	@echo "make demo   build a simulated cPanel host in ./$(DEMO) and run CSM against it"
	@echo "make test   set up (Debian packages, MariaDB, .venv) and run the test suite"
	@echo "make check  ruff format --check, ruff check, mypy --strict, import contracts, tests"
	@echo "make bench  run the benchmarks in bench/"
	@echo "make docs   regenerate the generated parts of docs/"
	@echo "make dist   build a wheel in dist/ that records its commit and build time"

host:
	@scripts/bootstrap

host-test:  # the tests also drive Debian's chromium
	@scripts/bootstrap --browser

# The mail hot path, compiled in place with mypyc (the same code runs as plain Python without).
COMPILED := $(filter-out %/__init__.py,$(wildcard src/csm/logtail/formats/*.py src/csm/detectors/mail/*.py)) src/csm/mailqueue/spool.py src/csm/mailqueue/views.py
CSTAMP   := $(VENV)/.compiled

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

venv: $(STAMP)

$(CSTAMP): $(STAMP) $(COMPILED)
	@scripts/compile $(COMPILED)
	@touch $@

compile: $(CSTAMP)

test: host-test venv compile
	$(BIN)/python -m pytest -q

lint: venv
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/mypy --strict src
	$(BIN)/lint-imports

check: lint test

demo: host venv compile
	@scripts/demo $(DEMO)

bench: host venv compile
	$(BIN)/python bench/startup.py
	$(BIN)/python bench/incidents.py
	@command -v fail2ban-regex >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fail2ban >/dev/null
	$(BIN)/python bench/mainlog.py
	@command -v clamscan >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clamav >/dev/null
	$(BIN)/python bench/scan.py
	$(BIN)/python bench/queue.py
	$(BIN)/python bench/latency.py
	$(BIN)/python bench/follow.py
	$(BIN)/python bench/api.py
	$(BIN)/python bench/day.py
	BENCH_ATTACK=1 $(BIN)/python bench/day.py

docs: venv
	$(BIN)/python scripts/gen_docs.py

# A wheel that knows its build: `csm version` prints the commit and the UTC build time.
dist: venv
	printf 'SHA = "%s"\nDATE = "%s"\n' "$$(git rev-parse --short=7 HEAD)" "$$(date -u +%Y-%m-%dT%H:%M:%SZ)" > src/csm/_build.py
	$(BIN)/python -m pip wheel --quiet --no-deps -w dist . ; status=$$?; rm -f src/csm/_build.py; exit $$status

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache src/build
	find src -name '*.so' -delete
