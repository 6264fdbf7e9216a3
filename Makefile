# QualityGov developer commands. `make run` serves the platform with demo data; `make test` runs the tests.
# `make help` lists every target. Everything a target needs is installed by the target itself.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

# PYTHON=/path/to/python3.12 picks the interpreter for the virtualenv; empty means "find one"
# (scripts/find-python.sh: pyenv and .python-version first, then python3.13, python3.12, python3).
PYTHON ?=
VENV := .venv
VPY := $(VENV)/bin/python
VENV_STAMP := $(VENV)/.qualitygov-installed
NPM_STAMP := node_modules/.qualitygov-installed
VENDOR_STAMP := qualitygov/static/vendor/versions.json
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_ENTITIES ?= 2000
DEMO_SEED ?= 20121
# Extra arguments for pytest, e.g. `make test PYTEST_ARGS='-k registry -x'`.
PYTEST_ARGS ?=
PYTEST_WORKERS ?= 2
# Extra arguments for every benchmark, e.g. `make bench BENCH_ARGS='--rows 10000'` for a quick run.
BENCH_ARGS ?=
# `make schema SPECTACULAR_FLAGS='--validate --fail-on-warn'` also refuses schema warnings.
SPECTACULAR_FLAGS ?= --validate
CHROMIUM := /usr/bin/chromium
# compilemessages walks the tree looking for locale/ folders: keep it out of these.
COMPILE_IGNORE := --ignore=.venv --ignore=node_modules --ignore=var --ignore=build --ignore=dist

.PHONY: help setup venv frontend translations browser run test bench lint schema schema-check \
        migrations-check collectstatic clean distclean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-17s %s\n", $$1, $$2}'

# --- setup -------------------------------------------------------------------------------------

setup: venv frontend translations ## Virtualenv, Python and front-end packages, compiled translations

venv: $(VENV_STAMP)

# Re-run pip when pyproject.toml changes; create the virtualenv only when it is missing or broken.
$(VENV_STAMP): pyproject.toml
	@if ! $(VPY) -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 12) else 1)' 2>/dev/null; then \
	    py=$$(PYTHON='$(PYTHON)' scripts/find-python.sh); \
	    echo "Creating $(VENV) with $$py ($$($$py --version))"; \
	    rm -rf $(VENV); \
	    "$$py" -m venv $(VENV); \
	    $(VPY) -m pip install --disable-pip-version-check --quiet --upgrade pip; \
	fi
	$(VPY) -m pip install --disable-pip-version-check --quiet -e '.[test]'
	@touch $@

frontend: $(VENDOR_STAMP)

$(NPM_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js >= 18 with npm (e.g. apt-get install nodejs npm)." >&2; exit 1; }
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $@

$(VENDOR_STAMP): $(NPM_STAMP) scripts/vendor-assets.sh
	scripts/vendor-assets.sh

# Compile every .po under qualitygov/ into .mo (GNU gettext's msgfmt does the work); nothing to do
# while there is no catalogue yet. Django skips catalogues whose .mo is newer than the .po.
translations: $(VENV_STAMP)
	@if find qualitygov -name '*.po' -path '*/LC_MESSAGES/*' | grep -q .; then \
	    scripts/ensure-deb.sh msgfmt gettext "compiling translations"; \
	    $(VPY) manage.py compilemessages $(COMPILE_IGNORE) -v 0; \
	    echo "translations compiled"; \
	else \
	    echo "no translation catalogue yet (qualitygov/locale/*/LC_MESSAGES/django.po): skipping"; \
	fi

browser: ## Debian's Chromium for the browser tests (never Playwright's own download)
	@scripts/ensure-deb.sh $(CHROMIUM) chromium "browser tests drive it through Playwright"
	@# A small CJK font, so that screenshots of the Chinese pages show characters instead of boxes.
	@scripts/ensure-deb.sh /usr/share/fonts/truetype/wqy/wqy-microhei.ttc fonts-wqy-microhei "Chinese text in screenshots"

# --- run ---------------------------------------------------------------------------------------

run: setup ## Migrate, load reference and demo data, serve on http://127.0.0.1:8000
	$(VPY) manage.py migrate --noinput -v 0
	$(VENV)/bin/qualitygov load-reference
	$(VENV)/bin/qualitygov load-inspection-rules
	@# Demo data only into an empty database; later runs only make sure the demo accounts exist
	@# (seed-demo --users-only), which prints the same logins again.
	@if $(VPY) manage.py shell -v 0 -c 'from qualitygov.registry.models import MarketEntity as M; import sys; sys.exit(0 if M.objects.exists() else 1)'; then \
	    echo "The database already has entities: demo data not regenerated."; \
	    $(VENV)/bin/qualitygov seed-demo --users-only; \
	else \
	    echo "Seeding demo data: $(DEMO_ENTITIES) entities, seed $(DEMO_SEED)"; \
	    $(VENV)/bin/qualitygov seed-demo --entities $(DEMO_ENTITIES) --seed $(DEMO_SEED); \
	fi
	@# Spot-check demo (labs, inspectors, plans, samples, results); skipped once any plan exists.
	$(VENV)/bin/qualitygov seed-inspection-demo --seed $(DEMO_SEED)
	@# Credit demo (score model, penalties, lists, first scoring, repair and sharing cases); once.
	$(VENV)/bin/qualitygov seed-credit-demo --seed $(DEMO_SEED)
	@# Traceability demo: supply chains of ginseng, rice, beef, brake hoses and helmets captured as EPCIS events; once.
	$(VENV)/bin/qualitygov seed-trace-demo --seed $(DEMO_SEED)
	@# Complaints demo (cases through intake and handling, monthly summaries, the identity-role login); once.
	$(VENV)/bin/qualitygov seed-complaints-demo --seed $(DEMO_SEED)
	@echo; echo "QualityGov: http://$(HOST):$(PORT)/  (API docs: http://$(HOST):$(PORT)/api/docs/; stop with Ctrl-C)"
	exec $(VPY) manage.py runserver $(HOST):$(PORT)

# --- checks ------------------------------------------------------------------------------------

test: setup browser ## Run the tests (DATABASE_URL=postgres://... to run them on PostgreSQL)
	$(VPY) -m pytest -n $(PYTEST_WORKERS) -p no:cacheprovider $(PYTEST_ARGS)

bench: setup ## Run every benchmark in bench/ (bench_*.py)
	@shopt -s nullglob; files=(bench/bench_*.py); \
	if [ $${#files[@]} -eq 0 ]; then echo "no benchmarks in bench/" >&2; exit 1; fi; \
	for f in "$${files[@]}"; do echo "=== $$f"; $(VPY) "$$f" $(BENCH_ARGS); done

lint: $(VENV_STAMP) ## ruff check
	$(VENV)/bin/ruff check .

schema: $(VENV_STAMP) ## Regenerate the committed OpenAPI schema (openapi.yaml)
	$(VPY) manage.py spectacular --lang zh-hans $(SPECTACULAR_FLAGS) --file openapi.yaml
	@echo "openapi.yaml regenerated"

schema-check: $(VENV_STAMP) ## Fail when openapi.yaml differs from what the code generates
	@tmp=$$(mktemp --suffix=.yaml); trap 'rm -f "$$tmp"' EXIT; \
	$(VPY) manage.py spectacular --lang zh-hans $(SPECTACULAR_FLAGS) --file "$$tmp"; \
	if [ ! -f openapi.yaml ]; then echo "openapi.yaml is missing: run 'make schema' and commit it." >&2; exit 1; fi; \
	if ! diff -u openapi.yaml "$$tmp"; then \
	    echo "openapi.yaml is out of date with the code: run 'make schema' and commit the result." >&2; exit 1; \
	fi; \
	echo "openapi.yaml matches the code"

migrations-check: $(VENV_STAMP) ## Fail when models have changes without a migration
	$(VPY) manage.py makemigrations --check --dry-run

collectstatic: setup ## Collect static files into STATIC_ROOT (var/staticfiles by default) for deployment
	$(VPY) manage.py collectstatic --noinput -v 1

# --- cleaning ----------------------------------------------------------------------------------

clean: ## Remove generated files (front-end packages, vendored assets, collected static, caches)
	rm -rf node_modules qualitygov/static/vendor var/staticfiles build dist *.egg-info .pytest_cache .ruff_cache
	find . -path ./.venv -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean ## Also remove the virtualenv and var/ (the development database)
	rm -rf $(VENV) var
