# landaulab: `make demo` runs the grokking study, `make test` runs the test suite.
# Both create .venv and install everything on a fresh machine.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
# The CPU build of torch, installed before the package so no CUDA build is pulled.
TORCH_PIN ?= torch==2.13.0
STAMP  := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: all install demo test test-all test-ray lint bench browser-test clean

all: test

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(STAMP): $(PY) pyproject.toml
	$(PIP) install --quiet "$(TORCH_PIN)"
	$(PIP) install --quiet -e ".[test]"
	touch $(STAMP)

# The libraries the benchmarks compare against (PyHessian, devinterp); the CPU torch
# installed above satisfies their torch requirement, so no CUDA build is pulled.
$(BENCH_STAMP): $(STAMP)
	$(PIP) install --quiet -e ".[test,bench]"
	touch $(BENCH_STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/landaulab demo

test: $(STAMP)
	RAY_USAGE_STATS_ENABLED=0 OMP_NUM_THREADS=1 $(PY) -m pytest -q

test-all: $(STAMP)
	OMP_NUM_THREADS=1 $(PY) -m pytest -q -m ""

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/ruff format --check src tests benchmarks examples
	$(PY) -m mypy src

# Renders reports in headless Chromium (Debian's chromium package; installed if missing).
browser-test: $(STAMP)
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	OMP_NUM_THREADS=1 $(PY) -m pytest -q -m browser tests/report
	OMP_NUM_THREADS=1 $(PY) -m pytest -q tests/watch

# Only the tests that start real local Ray clusters (loopback only, usage statistics off);
# `make test` runs them too.
test-ray: $(STAMP)
	RAY_USAGE_STATS_ENABLED=0 OMP_NUM_THREADS=1 $(PY) -m pytest -q -m ray tests/execute

# Every benchmark runs; each exits non-zero (with one line saying why) when a library it
# compares against is missing or a stated goal is missed, and the failures are listed last.
bench: $(BENCH_STAMP)
	@failed=""; for script in benchmarks/bench_*.py; do \
		echo "== $$script"; $(PY) $$script || failed="$$failed $$script"; \
	done; \
	if [ -n "$$failed" ]; then echo "benchmarks that failed:$$failed"; exit 1; fi

clean:
	rm -rf $(VENV) landaulab-demo landaulab-store .pytest_cache .ruff_cache .mypy_cache
