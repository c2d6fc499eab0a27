# RiskBench: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test check bench setup migrate demo lint format clean screenshots

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

setup: $(STAMP)

migrate: setup
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py loaddemo

run: demo
	$(PY) manage.py runserver 127.0.0.1:8000

CHROMIUM ?= /usr/bin/chromium

test: setup
	@if [ -x $(CHROMIUM) ]; then echo "Browser tests: $(CHROMIUM) found, tests/browser runs too (-m browser)."; \
	else echo "Browser tests SKIPPED: $(CHROMIUM) not found (apt-get install chromium to run tests/browser)."; fi
	$(PY) -m pytest

# PNGs of the main pages for the README, taken by the browser suite (needs chromium; a dossier
# page needs pdftoppm from poppler-utils).
screenshots: setup
	RISKBENCH_SCREENSHOTS=1 $(PY) -m pytest -p no:cacheprovider -q tests/browser/test_flows.py \
		-k "readme_screenshots or dossier_generation"
	@ls -l docs/screenshots/

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

check: setup
	$(VENV)/bin/ruff check .
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest

bench: migrate
	@for script in bench/bench_*.py; do $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
