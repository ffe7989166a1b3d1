# Every target creates or reuses .venv and installs what it needs, so that on a
# fresh clone `make demo` and `make test` are all the set-up there is.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python

.PHONY: demo test lint typecheck unit bench-smoke bench bench-save bench-compare docs docs-check mutate checkerbench clean

# One stamp per set of extras: re-install only when pyproject.toml changes.
$(VENV)/.stamp-%: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[$*]"
	touch $@

demo: $(VENV)/.stamp-demo,verify
	$(BIN)/softmax-ref demo

# Everything CI runs (.ci/run calls exactly this).
test: $(VENV)/.stamp-dev lint typecheck unit bench-smoke docs

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

# The benchmarks once each, quickly, so they cannot rot; never a timing assert.
bench-smoke: $(VENV)/.stamp-dev
	@if ls benchmarks/test_*.py >/dev/null 2>&1; then \
		$(BIN)/pytest benchmarks -q -p no:randomly --benchmark-disable -o addopts="" -m "not slow"; \
	fi

# The full suites (minutes; GBs of memory at the large sizes). Some machines set
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, which slow a current numpy: unset for the
# timing runs only (docs/benchmarks.md lists the BLAS kernel that ran).
BENCH := env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN)/pytest benchmarks -p no:randomly \
	-o addopts="" --benchmark-only --benchmark-columns=median,iqr,rounds --benchmark-sort=name

# Run the suites, then the same implementations side by side in interleaved rounds
# (the ratios to trust on a shared machine), and write docs/benchmarks.md and
# docs/benchmark-ratios.png.
bench: $(VENV)/.stamp-dev
	mkdir -p .benchmarks
	$(BENCH) --benchmark-json=.benchmarks/latest.json
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(PY) scripts/bench_sidebyside.py \
		--out .benchmarks/sidebyside.json
	$(PY) scripts/bench_table.py .benchmarks/latest.json --sidebyside .benchmarks/sidebyside.json

# The regression workflow: save a baseline, then compare a later run with it
# (fails when a median is more than 10% slower).
bench-save: $(VENV)/.stamp-dev
	$(BENCH) --benchmark-save=baseline

bench-compare: $(VENV)/.stamp-dev
	$(BENCH) --benchmark-compare --benchmark-compare-fail=median:10%

# The documentation site. --strict: a dead link, a missing anchor, or a code link
# (code:PATH#SYMBOL "TEXT") whose line is gone fails the build. Offline: MathJax
# is served from docs/javascripts/mathjax/, committed.
docs: $(VENV)/.stamp-docs
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# Render the built site in headless Chromium with no network and check that the
# math is typeset; screenshots in build/docs-check/. Needs Debian's chromium
# (apt-get update && apt-get install -y chromium). Not part of `make test`.
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

clean:
	rm -rf $(VENV) site .pytest_cache .mypy_cache .ruff_cache .benchmarks mutants
