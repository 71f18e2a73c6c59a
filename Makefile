# Two commands for a new machine: `make run` and `make test`. Everything else is a step of those.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
HOST   ?= 127.0.0.1
STAMP  := $(VENV)/.installed

WORKERS ?= 2
THREADS ?= 1
# Seconds a request may take: an XLSX export of 100,000 responses needs about a minute.
TIMEOUT ?= 180

.PHONY: run dev test install translations lint bench bench-analysis bench-builder clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP) translations

## Compile the interface catalogues (built by the install, never committed).
translations: $(STAMP)
	$(BIN)/flask --app surveyapp translate compile

## Set up the embedded database with demo content on first run, then serve on $(HOST):$(PORT)
## with gunicorn (the same server as in production; sync workers measured fastest here).
run: install
	$(BIN)/flask --app surveyapp setup
	@echo "surveyapp: http://$(HOST):$(PORT)/  (staff: http://$(HOST):$(PORT)/staff/login)"
	$(BIN)/gunicorn --workers $(WORKERS) --threads $(THREADS) --timeout $(TIMEOUT) --bind $(HOST):$(PORT) \
		--access-logfile - 'surveyapp:create_app()'

## The Flask development server with reloading and the debugger, for working on the code.
dev: install
	$(BIN)/flask --app surveyapp setup
	$(BIN)/flask --app surveyapp run --debug --host $(HOST) --port $(PORT)

## Lint, check the catalogues, then run the whole suite (SQLite and PostgreSQL, browser tests).
test: install
	$(BIN)/ruff check surveyapp tests benchmarks
	$(BIN)/flask --app surveyapp translate check
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check surveyapp tests benchmarks

bench: install
	$(BIN)/python benchmarks/run.py

## Results page, CSV export and PDF report on 10k/100k (SQLite) and 1M (PostgreSQL) responses;
## the generated databases are cached in benchmarks/.cache/ (the first 1M build takes a while).
bench-analysis: install
	$(BIN)/python benchmarks/analysis.py

## The builder's edit page with 300 questions and 5,000 options, next to its baselines.
bench-builder: install
	$(BIN)/python benchmarks/builder.py

clean:
	rm -rf $(VENV) build *.egg-info
