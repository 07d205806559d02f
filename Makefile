# The two commands of the README:
#   make demo  — install and run Gridline on its embedded defaults with the demo city
#   make test  — install the test dependencies and run the whole suite
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: demo test lint bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.runtime

demo: $(VENV)/.runtime
	$(BIN)/gridline serve --demo

test: $(VENV)/.test
	$(BIN)/pytest -q -p no:cacheprovider

lint: $(VENV)/.test
	$(BIN)/ruff check gridline tests bench
	$(BIN)/mypy gridline

bench: $(VENV)/.test
	for script in bench/*_bench.py; do $(BIN)/python $$script; done
