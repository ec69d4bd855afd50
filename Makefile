# Two commands matter on a fresh machine: `make mock` and `make test`.
# Both create .venv and install the project (with its pinned dependencies) first.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
MOCK_ARGS ?=
PYTEST_ARGS ?=
# `make test` runs the test files side by side, one process per core (at most 4); TEST_WORKERS=0 runs them in one.
TEST_WORKERS ?= auto
FUZZ_ARGS ?=

.PHONY: setup browsers mock test fuzz lint spec-check docs bench clean

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

mock: setup
	$(BIN)/xsolla-contract mock $(MOCK_ARGS)

spec-check: setup
	$(BIN)/xsolla-contract spec check

test: setup browsers
	$(BIN)/xsolla-contract spec check
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --maxprocesses 4 --dist loadfile $(PYTEST_ARGS)

# The full contract suite against the mock: the default budget, stateful sequences, positive and
# negative data; every operation must reach a documented success answer. Reports: fuzz-report/.
fuzz: setup
	$(BIN)/xsolla-contract fuzz --app mock --stateful --negative --seed 1 --min-success-coverage 100 $(FUZZ_ARGS)

lint: setup
	$(BIN)/ruff check .

# Regenerates the reference parts of docs/*.md from the code (a test fails when they are stale).
docs: setup
	$(BIN)/python maintainer/reference_docs.py

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT  := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get

# The browser tests (tests/browser/) drive Debian's Chromium through its chromedriver.
browsers:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  ($(APT) install -y -q chromium chromium-driver || ($(APT) update -q && $(APT) install -y -q chromium chromium-driver))

# Installs gunicorn (pip), wrk (Debian) and Prism (npm, into bench/.tools) when missing.
bench: setup
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	command -v wrk >/dev/null || $(APT) install -y wrk || ($(APT) update && $(APT) install -y wrk)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build *.egg-info test-artifacts
