# The two commands: `make run` (set up and run the assistant) and `make test`
# (set up and run every test). Everything they need is installed from here.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      := .venv
RASA_VENV := .venv-rasa
PY        := $(VENV)/bin/python
RASA      := $(RASA_VENV)/bin/rasa
PIP_FLAGS := --disable-pip-version-check -q
# uv resolves the lock files and hashes their files (`make lock`, in a throwaway environment).
UV_VERSION := 0.13.9
export TF_CPP_MIN_LOG_LEVEL ?= 2
export SQLALCHEMY_SILENCE_UBER_WARNING ?= 1
export RASA_TELEMETRY_ENABLED ?= false

.PHONY: help setup run test test-fast lint bench train lock system-deps clean

help:
	@echo "make run    set up everything, train the model if its inputs changed, run the assistant"
	@echo "make test   set up everything and run every test"
	@echo "make lint   ruff check and format --check, mypy, lint-imports, yamllint (the first step of make test)"
	@echo "make test-fast  set up and run the unit tests (no e2e, browser, PostgreSQL or Redis tests)"
	@echo "make bench  run the benchmarks (figures in bench/results.json)"

setup: $(VENV)/.installed $(RASA_VENV)/.installed

# The locks pin the sha256 of every file of each release and the installs require them
# (--require-hashes), so a file that is not the one locked fails the install. uv installs them
# (pinned in dev.lock and itself installed from it by pip, hash-checked); no hash is checked of
# build tools fetched to build an sdist (jieba; in rasa.lock also docopt, mattermostwrapper,
# randomname), so the setuptools (and wheel) a lock pins go in first, on their own, and the
# sdists and this project (-e .) are built with them (--no-build-isolation).
pinned = <(awk '/^[A-Za-z0-9._-]+==/ { keep = ($$1 ~ /^($(2))==/) } keep' $(1))
UV := $(VENV)/bin/uv
UV_INSTALL = $(UV) pip install --quiet --require-hashes --compile-bytecode

$(UV): requirements/dev.lock
	@[ -x $(PY) ] || $$(scripts/find-python.sh 3.11) -m venv $(VENV)
	$(VENV)/bin/pip install $(PIP_FLAGS) --require-hashes --no-deps -r $(call pinned,requirements/dev.lock,uv)
	@touch $@

# App environment, Python 3.11: service, actions (app.lock), tests and linters (dev.lock).
$(VENV)/.installed: requirements/app.lock requirements/dev.lock requirements/app.in pyproject.toml $(UV)
	$(UV_INSTALL) --python $(PY) --no-deps -r $(call pinned,requirements/app.lock,setuptools|wheel)
	$(UV_INSTALL) --python $(PY) --no-build-isolation -r requirements/app.lock -r requirements/dev.lock
	$(UV) pip install --quiet --python $(PY) --no-build-isolation --no-deps -e .
	@touch $@

# Rasa environment, Python 3.10: Rasa Open Source 3.6 does not run on 3.11.
$(RASA_VENV)/.installed: requirements/rasa.lock $(UV)
	@[ -x $(RASA_VENV)/bin/python ] || $$(scripts/find-python.sh 3.10) -m venv $(RASA_VENV)
	$(UV_INSTALL) --python $(RASA_VENV)/bin/python --no-deps -r $(call pinned,requirements/rasa.lock,setuptools|wheel)
	$(UV_INSTALL) --python $(RASA_VENV)/bin/python --no-build-isolation -r requirements/rasa.lock
	@touch $@

# Servers the tests start themselves (PostgreSQL, Redis, Chromium): installed if missing.
system-deps:
	@bash scripts/system-deps.sh

train: setup
	$(PY) -m bot.rasa_model

run: setup
	$(PY) -m bot.stack

test: setup system-deps
	bash scripts/test.sh

# Static checks (configured in pyproject.toml and .yamllint); scripts/test.sh runs them first.
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/yamllint --strict policy_kb domain data
	$(PY) scripts/check-file-sizes.py

# The inner loop: the tests that need no Rasa model, real processes, PostgreSQL, Redis or a browser.
test-fast: setup
	$(PY) -m pytest -q -p no:cacheprovider -n "$${JZ_TEST_WORKERS:-2}" --dist loadfile \
	  -m "not e2e and not browser and not postgres and not redis" --ignore=tests/service/test_openapi_schema.py
	$(PY) -m pytest -q -p no:cacheprovider tests/service/test_openapi_schema.py

bench: setup system-deps
	$(PY) -m bench.run

# Regenerate the lock files from requirements/*.in with uv (UV_VERSION, installed into a throwaway
# environment), for Python 3.11 and 3.10 on this kind of machine (Linux x86_64), with the hashes of
# all the files of each pinned release. A version a lock already pins is kept while the .in files
# allow it: `make lock LOCK_FLAGS=--upgrade` moves everything to the newest releases,
# LOCK_FLAGS='--upgrade-package NAME' one package. dev.lock holds what dev.in adds on top of app.lock
# (resolved with app.lock as constraints, so the two agree, and without what app.lock pins).
LOCK_FLAGS ?=
lock:
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	py311=$$(scripts/find-python.sh 3.11); py310=$$(scripts/find-python.sh 3.10); \
	$$py311 -m venv $$tmp/uv && $$tmp/uv/bin/pip install $(PIP_FLAGS) uv==$(UV_VERSION); \
	compile="$$tmp/uv/bin/uv pip compile --quiet --generate-hashes --no-header $(LOCK_FLAGS)"; \
	$$compile --python $$py311 requirements/app.in -o requirements/app.lock; \
	sed -i '1i # Generated by `make lock` from app.in on Python 3.11; do not edit by hand.' requirements/app.lock; \
	$$compile --python $$py311 -c requirements/app.lock requirements/app.in requirements/dev.in -o requirements/dev.lock \
	  $$(sed -nE 's/^([A-Za-z0-9._-]+)==.*/--no-emit-package \1/p' requirements/app.lock); \
	sed -i '1i # Generated by `make lock` from dev.in on Python 3.11 (what app.lock does not pin); do not edit by hand.' requirements/dev.lock; \
	$$compile --python $$py310 requirements/rasa.in -o requirements/rasa.lock; \
	sed -i '1i # Generated by `make lock` from rasa.in on Python 3.10; do not edit by hand.' requirements/rasa.lock

clean:
	rm -rf $(VENV) $(RASA_VENV) var results test-artifacts
