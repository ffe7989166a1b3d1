# Every target creates or reuses .venv and installs what it needs, so that on a
# fresh clone `make demo` and `make test` are all the set-up there is.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python

.PHONY: demo test lint typecheck unit unit-portable bench-smoke bench-ci bench bench-save bench-compare bench-selftest docs docs-check mutate checkerbench nightly clean

# One stamp per set of extras: re-install only when pyproject.toml changes.
$(VENV)/.stamp-%: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[$*]"
	touch $@

# DEMO_ARGS adds options, e.g. a quick run on one data set with no figures:
#   make demo DEMO_ARGS="--datasets blog_2016 --no-figures"
DEMO_ARGS ?=
demo: $(VENV)/.stamp-demo,verify
	$(BIN)/softmax-ref demo $(DEMO_ARGS)

# Everything CI runs (.ci/run calls this, then docs-check).
test: $(VENV)/.stamp-dev lint typecheck unit unit-portable bench-smoke bench-ci docs

# ruff, then the import contracts of pyproject.toml ([tool.importlinter]; the rules
# and why: docs/architecture.md). --no-cache: no cache folder left in the tree.
lint: $(VENV)/.stamp-dev
	$(BIN)/ruff check softmax_ref verification tests benchmarks scripts
	$(BIN)/ruff format --check softmax_ref verification tests benchmarks scripts
	$(BIN)/lint-imports --no-cache

typecheck: $(VENV)/.stamp-dev
	$(BIN)/mypy

unit: $(VENV)/.stamp-dev
	CI=$${CI:-true} $(BIN)/pytest

# The suite again under another XLA instruction set and one thread of the fast core:
# a test that compares digits the machine moves fails here, not on a user's machine.
# All of it, not a list: nearly every test reads numbers from JAX or the BLAS GEMMs of
# loss_and_grad (1 to 4 minutes on 2 cores, with the load). OPENBLAS_* stay as the machine sets them.
# The suite again on another instruction set for XLA and one lane for the kernel, so a
# test that compares digits the machine can move fails here first. Left out: the tests
# whose results come from no JAX or BLAS arithmetic (set-up, commands, the browser
# check, import contracts, subprocess plugin runs, the cluster's process handling).
PORTABLE_SKIP := --ignore=tests/test_numpy_only.py --ignore=tests/test_commands.py \
	--ignore=tests/test_docs_check.py --ignore=tests/test_architecture.py \
	--ignore=tests/test_testing_plugin.py --ignore=tests/test_distributed_cluster.py \
	--ignore=tests/test_checkerbench.py
unit-portable: $(VENV)/.stamp-dev
	CI=$${CI:-true} XLA_FLAGS=--xla_cpu_max_isa=SSE4_2 SOFTMAX_REF_NUM_THREADS=1 \
		$(BIN)/pytest -q $(PORTABLE_SKIP)

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
# docs/benchmarks.md, docs/benchmark-ratios.png and docs/benchmark-memory.png (the
# distributed suite has its own command, on docs/distributed.md).
# The one command that regenerates the benchmarks page (run it on a quiet machine).
# The side-by-side ratios (the targets) first, before the suites allocate GBs: run
# right after them, cs231n-dev's ratio measured 0.99, and 0.82 to 0.84 in runs of its own.
bench: $(VENV)/.stamp-dev
	mkdir -p .benchmarks
	$(TIMING) $(PY) scripts/bench_sidebyside.py --profile --out .benchmarks/sidebyside.json
	$(BENCH) --ignore=benchmarks/test_bench_distributed.py --benchmark-json=.benchmarks/latest.json
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
# (seconds), with its baseline in build/, apart from a user's .benchmarks/. The
# verdict is printed, never the exit status: make test holds no timing assert.
BENCH_CI_ARGS := --sizes toy --dtypes float64 --impls ours --rounds 11 --name ci --dir build/bench-ci
bench-ci: $(VENV)/.stamp-dev
	$(MAKE) --no-print-directory bench-save BENCH_ARGS="$(BENCH_CI_ARGS)"
	$(MAKE) --no-print-directory bench-compare BENCH_ARGS="$(BENCH_CI_ARGS) --report-only"

# The documentation site. --strict: a dead link, a missing anchor, or a code link
# (code:PATH#SYMBOL "TEXT") whose line is gone fails the build. Offline: MathJax
# is served from docs/javascripts/mathjax/, committed.
docs: $(VENV)/.stamp-docs
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# Render every page of the built site in headless Chromium with no network, 1280
# and 390 px wide: fails when math is not typeset, when a page scrolls sideways,
# when display math does not fit a 1280 px column, or when a math block or table
# wider than its box does not scroll inside it. Screenshots in build/docs-check/
# (FAIL-*.png at each failure). Needs Debian's chromium (apt-get update &&
# apt-get install -y chromium); without it, says so and fails. .ci/run runs it
# after `make test`. About 2 minutes on a loaded 2-core machine.
docs-check: docs $(VENV)/.stamp-dev
	$(PY) scripts/docs_plugins/docs_check.py --site site --out build/docs-check

# Mutation testing of the gradient's arithmetic, softmax_ref/loss.py and
# softmax_ref/_kernels.py (settings: [tool.mutmut] in pyproject.toml).
# mutmut works in its own copy, mutants/ (git-ignored), started afresh each run so
# no stale cache decides a verdict; prints every mutant that survived. Takes
# minutes; not part of `make test`. Survivors and why: docs/property-suite.md.
mutate: $(VENV)/.stamp-dev
	rm -rf mutants
	$(BIN)/mutmut run --max-children 2
	$(BIN)/mutmut results

# This project's check against four other gradient checkers (PyTorch, JAX, SciPy,
# numdifftools) on one catalog of wrong and hard-but-correct cases; writes
# docs/checkers.md and its figure. Minutes; the peers come from the checkerbench
# extra (a pinned CPU build of PyTorch). Not part of `make test`.
checkerbench: $(VENV)/.stamp-checkerbench
	mkdir -p build
	$(PY) scripts/checkerbench.py --meta-dir tests/meta --out docs/checkers.md \
		--figure docs/figures/checkers.png --json build/checkerbench.json

# The property suites under the nightly profile (2000 examples per test's share, random;
# tests/conftest.py): hours on 2 cores. NIGHTLY_EXAMPLES=<n> runs a reduced budget.
# Not part of `make test`; its last result is on docs/property-suite.md.
NIGHTLY_EXAMPLES ?=
nightly: $(VENV)/.stamp-dev
	HYPOTHESIS_PROFILE=nightly HYPOTHESIS_MAX_EXAMPLES=$(NIGHTLY_EXAMPLES) $(BIN)/pytest \
		tests/test_properties.py tests/test_two_layer_properties.py tests/test_strategies.py \
		-q -p no:randomly --hypothesis-show-statistics

clean:
	rm -rf $(VENV) site .pytest_cache .mypy_cache .ruff_cache .benchmarks mutants
