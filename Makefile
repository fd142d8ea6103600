# imi-mailwatch: `make demo` and `make test` do all set-up on a fresh Debian/Ubuntu machine.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
# Debian packages the tests need: a real IMAP server, openssl for test certificates and
# faketime (the crash test moves the daemon's clock to a working day on weekends),
# chromium for the browser tests of the web desk (Playwright drives the system browser),
# postgresql (the PostgreSQL state store's tests start a private server).
TEST_DEBS = dovecot-imapd openssl faketime fonts-dejavu-core chromium postgresql
SUDO    = $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help install demo test soak test-lowest lock lint typecheck unit bench audit clean \
        venv-deps test-deps vendor-nlds

help:
	@echo "make demo   install into $(VENV) and run the whole pipeline on a built-in sample mailbox"
	@echo "make test   install what the tests need (incl. Dovecot) and run lint, types and tests"
	@echo "make soak   the long runs: full crash run, 1,276 hostile messages, 5,000-message backlog"
	@echo "make test-lowest  the fast tests on the lowest dependency versions pyproject.toml allows"
	@echo "make lock   refresh requirements.lock, the container image's pinned dependencies"
	@echo "make bench  run the benchmarks (figures go to BENCHMARKS.md by hand)"
	@echo "make audit  check the installed dependencies for known vulnerabilities (network)"
	@echo "make vendor-nlds  refresh the NL Design System CSS of the web desk from the npm registry"

# python3 -m venv needs Debian's python3-venv on a bare Debian/Ubuntu machine.
venv-deps:
	@$(PYTHON) -c "import ensurepip, venv" 2>/dev/null || { \
	  echo "installing python3-venv"; \
	  $(SUDO) apt-get install -y --no-install-recommends python3-venv || \
	  { $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends python3-venv; }; }

$(STAMP): pyproject.toml | venv-deps
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/imi-mailwatch demo

test-deps:
	@missing=""; for p in $(TEST_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing$$missing"; \
	  $(SUDO) apt-get install -y --no-install-recommends $$missing || \
	  { $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends $$missing; }; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check imi_mailwatch tests bench
	$(BIN)/ruff format --check imi_mailwatch
	$(BIN)/hadolint Dockerfile
	$(BIN)/bandit -c pyproject.toml -r imi_mailwatch -q
	NO_COLOR=1 $(BIN)/deptry .

typecheck: $(STAMP)
	$(BIN)/mypy

# The suite for every change (soak tests deselected in pyproject.toml's addopts), in
# TEST_WORKERS processes (pytest-xdist): most tests wait on servers and sockets, not on the
# CPU, so more workers than cores pay. TEST_WORKERS=0 runs it in one process. Each worker
# starts its own servers (Dovecot, PostgreSQL: free ports, own directories); `make soak`
# runs in one process, as its long runs measure.
TEST_WORKERS ?= 4
XDIST         = -n $(TEST_WORKERS) --dist worksteal
test: $(STAMP) test-deps lint typecheck
	$(BIN)/python -m pytest $(XDIST)

# The long runs, each the full size of a test that runs small in `make test`.
soak: $(STAMP) test-deps
	$(BIN)/python -m pytest -m soak

# The lowest versions pyproject.toml allows (uv --resolution lowest-direct: every declared
# dependency at its floor) in a venv of their own, tried on the tests that need no Dovecot
# and start no daemon. Needs PyPI; .ci/run runs it after `make test`.
LOWEST     ?= .venv-lowest
FAST_TESTS  = tests/alerts tests/rules tests/core tests/corsa tests/m365 tests/deadlines tests/privacy tests/web
test-lowest: $(STAMP)
	rm -rf $(LOWEST)
	$(BIN)/uv venv --quiet --python $(BIN)/python $(LOWEST)
	$(BIN)/uv pip install --quiet --python $(LOWEST)/bin/python --resolution lowest-direct -e '.[test]'
	$(LOWEST)/bin/python -m pytest -q $(XDIST) -m "not dovecot and not soak" $(FAST_TESTS)

# The container image's dependencies pinned with hashes for the image's Python:
# requirements.lock (the runtime) and requirements-build.lock (setuptools, which builds the
# package and the one sdist, dkimpy); the Dockerfile installs both with --require-hashes.
# Refresh after a change to the dependencies in pyproject.toml, and for security updates.
IMAGE_PYTHON = $(shell sed -n 's/^ARG PYTHON_VERSION=//p' Dockerfile)
LOCK_FLAGS   = --universal --quiet --python-version $(IMAGE_PYTHON) --generate-hashes \
               --custom-compile-command "make lock"
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml $(LOCK_FLAGS) -o requirements.lock
	$(BIN)/python -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"], sep="\n")' \
	  | $(BIN)/uv pip compile - $(LOCK_FLAGS) -o requirements-build.lock

# getmail6 is a yardstick for the IMAP backlog benchmark only, not a dependency.
bench: $(STAMP) test-deps
	$(BIN)/python -m pip install --quiet getmail6
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# Known vulnerabilities in the installed dependencies. Needs PyPI's JSON API or
# OSV on the network, so it is not part of `make test`.
audit: $(STAMP)
	$(BIN)/pip-audit --strict --skip-editable

# The web desk's NL Design System look, vendored (no CDN at run time): the Utrecht
# component library CSS and the NL Design System example theme (both EUPL-1.2), with
# their licences. Raise the versions here, run this, look at the pages, commit.
NLDS_DIR      = imi_mailwatch/web/static/vendor
NLDS_CSS      = @utrecht/component-library-css@9.0.4
NLDS_TOKENS   = @nl-design-system-unstable/voorbeeld-design-tokens@7.4.1
vendor-nlds:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  (cd "$$tmp" && npm pack --silent $(NLDS_CSS) $(NLDS_TOKENS) >/dev/null) && \
	  mkdir -p "$$tmp/css" "$$tmp/tokens" && \
	  tar xzf "$$tmp"/utrecht-component-library-css-*.tgz -C "$$tmp/css" && \
	  tar xzf "$$tmp"/nl-design-system-unstable-voorbeeld-design-tokens-*.tgz -C "$$tmp/tokens" && \
	  mkdir -p $(NLDS_DIR) && \
	  cp "$$tmp/css/package/dist/index.css" $(NLDS_DIR)/utrecht-component-library.css && \
	  cp "$$tmp/css/package/LICENSE.md" $(NLDS_DIR)/LICENSE-utrecht-component-library.md && \
	  cp "$$tmp/tokens/package/dist/theme.css" $(NLDS_DIR)/voorbeeld-theme.css && \
	  cp "$$tmp/tokens/package/LICENSE.md" $(NLDS_DIR)/LICENSE-voorbeeld-design-tokens.md && \
	  printf '%s\n' $(NLDS_CSS) $(NLDS_TOKENS) > $(NLDS_DIR)/VERSIONS && \
	  echo "vendored into $(NLDS_DIR):" && cat $(NLDS_DIR)/VERSIONS

clean:
	rm -rf $(VENV) $(LOWEST) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
