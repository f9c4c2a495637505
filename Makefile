# Two commands matter: `make run` and `make test`. Both create .venv and install when needed.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test unit integration lint bench clean test-deps i18n

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,dev]'
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(VENV)/bin/bantin up

test: install test-deps
	$(VENV)/bin/pytest

unit: install test-deps
	$(VENV)/bin/pytest tests/unit

integration: install test-deps
	$(VENV)/bin/pytest tests/integration

# What the tests need from Debian, installed once and only what is missing:
#   chromium                  the page, console and reader tests drive it through Playwright
#                             (Playwright's own browser download cannot work here);
#   prometheus (promtool)     checks deploy/prometheus/ rules and their tests;
#   nginx-light + brotli      serves the feed export with deploy/nginx/bantin.conf;
#   systemd (systemd-analyze) verifies deploy/systemd/ units.
DEBIAN_TOOLS := chromium:chromium promtool:prometheus nginx:nginx-light systemd-analyze:systemd
BROTLI_STATIC := /usr/lib/nginx/modules/ngx_http_brotli_static_module.so

test-deps:
	@missing=""; \
	for pair in $(DEBIAN_TOOLS); do \
	  command -v $${pair%%:*} >/dev/null 2>&1 || [ -x /usr/sbin/$${pair%%:*} ] || missing="$$missing $${pair#*:}"; \
	done; \
	[ -f $(BROTLI_STATIC) ] || missing="$$missing libnginx-mod-http-brotli-static"; \
	if [ -n "$$missing" ]; then \
	  echo "installing from Debian:$$missing"; \
	  apt-get update && apt-get install -y --no-install-recommends $$missing; \
	fi

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# New msgids from the templates and Python (babel.cfg) into the English catalogue; lists those
# still without English (tests/unit/test_i18n.py fails until each has one).
i18n: install
	$(PY) -m service.i18n_catalogue

bench: install
	$(PY) -m bench.publish_latency
	$(PY) -m bench.fanout
	$(PY) -m bench.calendar
	$(PY) -m bench.pages

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache *.egg-info
