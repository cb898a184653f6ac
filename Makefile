# Two entry points for a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

$(BIN)/hiwar: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/hiwar

.PHONY: install demo test lint catalogs bench
install: $(BIN)/hiwar

demo: install
	$(BIN)/hiwar demo

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check .

# Re-extract messages from the code and merge them into both catalogs (translations are kept).
catalogs: install
	$(BIN)/pybabel extract -F babel.cfg -k _n:1,2 --no-location --sort-output -o locales/hiwar.pot .
	$(BIN)/pybabel update -i locales/hiwar.pot -d locales -D hiwar --no-location --width 100
