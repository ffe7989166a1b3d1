# Every target creates or reuses .venv and installs what it needs, so that on a
# fresh clone `make demo` and `make test` are all the set-up there is.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python

.PHONY: demo test lint typecheck unit bench-smoke bench-ci bench bench-save bench-compare bench-selftest docs docs-check mutate clean

# One stamp per set of extras: re-install only when pyproject.toml changes.
$(VENV)/.stamp-%: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[$*]"
	touch $@

demo: $(VENV)/.stamp-demo,verify
	$(BIN)/softmax-ref demo

# Everything CI runs (.ci/run calls exactly this).
test: $(VENV)/.stamp-dev lint typecheck unit bench-smoke bench-ci docs

lint: $(VENV)/.stamp-dev
	$(BIN)/ruff check softmax_ref verification tests benchmarks
	$(BIN)/ruff format --check softmax_ref verification tests benchmarks

typecheck: $(VENV)/.stamp-dev
	$(BIN)/mypy

unit: $(VENV)/.stamp-dev
	CI=$${CI:-true} $(BIN)/pytest

# The benchmarks once each, quickly, so they cannot rot; never a timing assert.
bench-smoke: $(VENV)/.stamp-dev
	@if ls benchmarks/test_*.py >/dev/null 2>&1; then \
		$(BIN)/pytest benchmarks -q -p no:randomly --benchmark-disable -o addopts="" -m "not slow"; \
	fi

# The full suites (minutes; GBs of memory at the large sizes). Some machines set
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, which slow a current numpy: unset for the
# timing runs only (docs/benchmarks.md lists the BLAS kernel that ran).
# pytest-benchmark's warnings (e.g. a compared run's machine_info differs) are shown,
# not turned into errors by the project's filterwarnings = error.
TIMING := env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE
BENCH := $(TIMING) $(BIN)/pytest benchmarks -p no:randomly \
	-o addopts="" --benchmark-only --benchmark-columns=median,iqr,rounds --benchmark-sort=name \
	-W "default::pytest_benchmark.logger.PytestBenchmarkWarning"

# Run the suites, then the same implementations side by side in interleaved rounds
# (the ratios to trust on a shared machine) and the memory measurements, and write
# docs/benchmarks.md, docs/benchmark-ratios.png and docs/benchmark-memory.png.
# The one command that regenerates the benchmarks page (run it on a quiet machine).
bench: $(VENV)/.stamp-dev
	mkdir -p .benchmarks
	$(BENCH) --benchmark-json=.benchmarks/latest.json
	$(TIMING) $(PY) scripts/bench_sidebyside.py --profile --out .benchmarks/sidebyside.json
	$(TIMING) $(PY) scripts/bench_memory.py --out .benchmarks/memory.json
	$(PY) scripts/bench_table.py .benchmarks/latest.json --sidebyside .benchmarks/sidebyside.json \
		--memory .benchmarks/memory.json

# The regression workflow (scripts/bench_regress.py): every registered implementation
# timed against the post's code in interleaved rounds; compare fails when a ratio grew
# by more than a limit derived from the measured spread. BENCH_ARGS selects: e.g.
#   make bench-save bench-compare BENCH_ARGS="--sizes toy,cs231n-dev --dtypes float64"
# Without it, all five sizes in both dtypes (minutes; GBs at the large sizes).
BENCH_ARGS ?=
bench-save: $(VENV)/.stamp-dev
	$(TIMING) $(PY) scripts/bench_regress.py save $(BENCH_ARGS)

bench-compare: $(VENV)/.stamp-dev
	$(TIMING) $(PY) scripts/bench_regress.py compare $(BENCH_ARGS)

# Unchanged code passes 5 compares of 5; a planted 1.5x slowdown fails 5 of 5.
bench-selftest: $(VENV)/.stamp-dev
	$(TIMING) $(PY) scripts/bench_regress.py selftest $(BENCH_ARGS)

# What CI runs of the workflow: bench-save then bench-compare on a tiny selection
# (seconds), with its baseline in build/, apart from a user's .benchmarks/.
BENCH_CI_ARGS := --sizes toy --dtypes float64 --impls ours --rounds 11 --name ci --dir build/bench-ci
bench-ci: $(VENV)/.stamp-dev
	$(MAKE) --no-print-directory bench-save bench-compare BENCH_ARGS="$(BENCH_CI_ARGS)"

# The documentation site. --strict: a dead link, a missing anchor, or a code link
# (code:PATH#SYMBOL "TEXT") whose line is gone fails the build. Offline: MathJax
# is served from docs/javascripts/mathjax/, committed.
docs: $(VENV)/.stamp-docs
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# Render the built site in headless Chromium with no network and check that the
# math is typeset; screenshots in build/docs-check/. Needs Debian's chromium
# (apt-get update && apt-get install -y chromium). Not part of `make test`.
docs-check: docs $(VENV)/.stamp-dev
	$(PY) scripts/docs_check.py --site site --out build/docs-check

# Mutation testing of softmax_ref/loss.py (settings: [tool.mutmut] in pyproject.toml).
# mutmut works in its own copy, mutants/ (git-ignored), started afresh each run so
# no stale cache decides a verdict; prints every mutant that survived. Takes
# minutes; not part of `make test`. Survivors and why: docs/property-suite.md.
mutate: $(VENV)/.stamp-dev
	rm -rf mutants
	$(BIN)/mutmut run --max-children 2
	$(BIN)/mutmut results

clean:
	rm -rf $(VENV) site .pytest_cache .mypy_cache .ruff_cache .benchmarks mutants
