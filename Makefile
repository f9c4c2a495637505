# Two commands matter: `make run` and `make test`. Both create .venv and install when needed.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test unit integration lint bench clean promtool browser

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,dev]'
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(VENV)/bin/bantin up

test: install promtool browser
	$(VENV)/bin/pytest

unit: install promtool
	$(VENV)/bin/pytest tests/unit

integration: install browser
	$(VENV)/bin/pytest tests/integration

# The suite checks deploy/prometheus/ with promtool, from Debian's prometheus package.
promtool:
	@command -v promtool >/dev/null || { apt-get update && apt-get install -y --no-install-recommends prometheus; }

# The page tests drive Debian's chromium through Playwright (Playwright's own browser
# download cannot reach its servers); installed once, only when missing.
browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update && apt-get install -y --no-install-recommends chromium)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

bench: install
	$(PY) -m bench.publish_latency
	$(PY) -m bench.fanout
	$(PY) -m bench.calendar
	$(PY) -m bench.pages

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache *.egg-info
