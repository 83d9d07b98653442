# Two commands do everything: `make audit` (the trust audit of the embedded default) and
# `make test` (the project's own tests). Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARGS ?=

.PHONY: audit test bench docs install clean-report

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,ray]'
	# torchattacks declares torchvision and requests~=2.25, which its code never imports; see README.
	$(BIN)/pip install --quiet --no-deps -c constraints.txt torchattacks
	touch $(STAMP)

install: $(STAMP)

# `-n auto`: a worker per backbone, at most one per core, torch's threads shared out among them
# (trustser/pytest_plugin/xdist.py). `--dist worksteal` hands out tests one by one instead of a backbone per
# worker: the embedded backbones cost 80 to 200 s each, and a worker that drew a cheap one would otherwise
# idle at the end (cold default audit on 2 cores: 265 s against 273 to 292 s; docs/benchmarks.md).
audit: $(STAMP)
	$(BIN)/pytest trust_tests -n auto --dist worksteal --junitxml=trust-report/junit.xml $(ARGS)

# One pytest worker per core (pytest-xdist), each test module on one worker so its module fixtures are
# built once, and one torch thread per worker: on 2 cores this halves the wall time, while torch's own
# threads competing with a second worker would slow both down several times.
# ruff first: lint and format are checked before any test runs (configured in pyproject.toml).
# Tests marked slow (minutes each: the Ray audit on the default corpus) run with `pytest tests -m slow`.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	OMP_NUM_THREADS=1 $(BIN)/pytest tests -n auto --dist loadfile -m "not slow" $(ARGS)

# Long runs, kept out of `make test`: memory, time and disk as the corpus grows (benchmarks/scale.py).
# Over an hour on 2 cores (ARGS="--sections scale --folds 2" alone: about 45 min); results in .bench/results.json.
bench: $(STAMP)
	$(BIN)/python -m benchmarks.scale $(ARGS)

# docs/metrics.md is rendered from the metric declarations; a test fails when the committed file is stale.
docs: $(STAMP)
	$(BIN)/python -m trustser.report.metrics_doc docs/metrics.md

clean-report:
	rm -rf trust-report
