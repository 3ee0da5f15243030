# Developer entry points. `make demo` and `make test` are the README's quick start.
PYTHON ?= python3
PY312 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12) python3.12)
COMPAT_ARGS ?= -m "not browser and not s3_cluster"
CLUSTER_ARGS ?= -q -p no:cacheprovider -m "not browser"
SWIFT_ARGS ?= -q -p no:cacheprovider -m "not system"
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
STAMP := $(VENV)/.installed-test
DOCS_STAMP := $(VENV)/.installed-docs

.PHONY: help venv test test-unit test-fast test-cluster test-swift lint demo compat compat-django42 compat-py312 bench clean option-table docs

help:
	@echo "make demo     run the example project on an embedded S3 server (http://127.0.0.1:8000)"
	@echo "make test     create $(VENV), install the package with its test extra, lint, run the suite"
	@echo "make test-unit  run tests/unit only: no S3 server, seconds"
	@echo "make test-cluster  run the suite through HAProxy on a 3-OSD Ceph cluster with 2 gateways"
	@echo "make test-swift  run the suite on OpenStack Swift's S3 API (s3api): a strict server lacking many features"
	@echo "make compat   run the suite with Django 4.2 (Python 3.11) and the newest Django on Python 3.12"
	@echo "make bench    run the benchmarks in benchmarks/"
	@echo "make docs     build the documentation site (docs/) with warnings as errors: docs/_build/html"

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PIP) install -e ".[test]"
	touch $@

$(DOCS_STAMP): pyproject.toml $(STAMP)
	$(PIP) install -e ".[test,docs]"
	touch $@

venv: $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: $(STAMP) lint
	$(PY) -m pytest $(PYTEST_ARGS)

# The tests that need no S3 server (tests/unit); the other tiers are tests/server, tests/reliability
# and tests/system, or `-m server` etc.
test-unit: $(STAMP)
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

# The suite through the load balancer of a local Ceph cluster (3 OSDs, 2 gateways, HAProxy);
# tests marked `s3_cluster` run only here.
test-cluster: $(STAMP)
	MINIO_TEST_SERVER=rgw-cluster $(PY) -m pytest $(CLUSTER_ARGS)

# The suite on a single-node OpenStack Swift with s3api (memcached, four Swift servers): tests that
# need what Swift lacks are skipped with the capability named (`s3_needs`); the system tier needs
# other servers (Ceph, Chromium, MinIO projects) and is left out.
test-swift: $(STAMP)
	MINIO_TEST_SERVER=swift S3_STRICT=1 $(PY) -m pytest $(SWIFT_ARGS)

test-fast: $(STAMP)
	$(PY) -m pytest -x -q $(PYTEST_ARGS)

demo: $(STAMP)
	$(PY) examples/run_demo.py

# Compatibility matrix: oldest supported Django, and the newest Django on Python 3.12.
compat: compat-django42 compat-py312

compat-django42:
	$(PYTHON) -m venv .venv-django42
	.venv-django42/bin/python -m pip --disable-pip-version-check -q install -e ".[test]" "Django>=4.2,<5.0"
	.venv-django42/bin/python -m pytest -q -p no:cacheprovider $(COMPAT_ARGS)

compat-py312:
	$(PY312) -m venv .venv-py312
	.venv-py312/bin/python -m pip --disable-pip-version-check -q install -e ".[test]" --upgrade Django
	.venv-py312/bin/python -m pytest -q -p no:cacheprovider $(COMPAT_ARGS)

# Rewrite the option reference of docs/configuration.md from conf/options.py (the one declaration of
# each option); `make docs` renders the same table, and tests/unit/test_docs.py checks the page.
option-table: $(STAMP)
	$(PY) scripts/option_table.py

# The documentation site: MyST pages in docs/, the furo theme; any warning (a missing page, anchor
# or repository file) fails the build.
docs: $(DOCS_STAMP)
	$(VENV)/bin/sphinx-build -W --keep-going -q -b html docs docs/_build/html

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf docs/_build $(VENV) .venv-django42 .venv-py312 .pytest_cache .ruff_cache *.egg-info
