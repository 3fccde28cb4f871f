# arcdesk — `make test` installs what it needs and runs every tier; `make demo` runs the main job.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PYTEST := $(PY) -m pytest -p no:cacheprovider
export PATH := $(CURDIR)/.devcluster/bin:$(PATH)

.PHONY: setup lint test test-unit test-cluster test-chaos chaos test-desktop bench fresh-check clean help

help:
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | sort

$(VENV)/.installed: pyproject.toml
	@# Debian's python3 makes venvs only with python3-venv (ensurepip) installed.
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || { apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-venv; }
	@$(PYTHON) -m venv $(VENV)
	@$(VENV)/bin/pip install -q --upgrade pip
	@$(VENV)/bin/pip install -q -e '.[dev]'
	@touch $@

# The gateway's noVNC, pinned in novnc.py: fetched from the npm registry into .venv/share.
$(VENV)/.novnc: $(VENV)/.installed operator/arcdesk/gateway/novnc.py
	@$(VENV)/bin/arcdesk gateway install-novnc
	@touch $@

setup: $(VENV)/.installed $(VENV)/.novnc ## create .venv with the package, dev tools and noVNC

lint: setup ## ruff and mypy (strict on arcdesk)
	$(VENV)/bin/ruff check operator tests bench devcluster images
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test-unit: setup ## pure tests, no cluster
	$(PYTEST) tests/unit -q

test-cluster: setup cluster-up ## real API server + KWOK nodes
	$(PYTEST) tests/cluster -q

test-desktop: setup desktop-deps cluster-up ## real Xvnc session + headless Chromium (+ gateway)
	$(PYTEST) tests/desktop -q

test-chaos: setup cluster-up ## faults caused for real: API server, etcd, operator killed or cut off
	$(PYTEST) tests/chaos -q

chaos: test-chaos

test: lint test-unit test-cluster test-chaos test-desktop test-e2e ## everything CI runs

bench: setup desktop-deps realnode-up image-deps ## benchmarks; results in bench/results/, tables in the READMEs
	$(PY) -m bench
	$(PY) -m bench.report

# FRESH_TARGETS=... adds tiers; see README.md for which can run inside such a root.
FRESH_TARGETS ?= setup lint test-unit
fresh-check: image-deps ## clean-room check: make $(FRESH_TARGETS) in a fresh Debian root, empty HOME
	.ci/fresh-check $(FRESH_TARGETS)

clean: ## remove the venv and caches inside the clone (not ~/.cache/arcdesk)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis

include devcluster/devcluster.mk
include devcluster/realnode.mk
include images/desktop/desktop.mk
include devcluster/demo.mk
