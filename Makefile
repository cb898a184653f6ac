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
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# Re-extract messages from the code and merge them into each feature's catalog (translations
# are kept); then fill in the new entries of locales/ar and locales/en.
CATALOG_hiwar := bot/*.py bot/core bot/survey handlers/base handlers/survey.py
CATALOG_reports := bot/reports handlers/reports.py
CATALOG_invitations := bot/invitations handlers/invitations.py handlers/outbox.py
CATALOG_reminders := bot/reminders
catalogs: install
	for domain in hiwar reports invitations reminders; do \
	  case $$domain in hiwar) src="$(CATALOG_hiwar)";; reports) src="$(CATALOG_reports)";; \
	    invitations) src="$(CATALOG_invitations)";; reminders) src="$(CATALOG_reminders)";; esac; \
	  $(BIN)/pybabel extract -k _n:1,2 -k Message --no-location --sort-output -o locales/$$domain.pot \
	    $$(ls -d $$src 2>/dev/null) && \
	  $(BIN)/pybabel update -i locales/$$domain.pot -d locales -D $$domain \
	    --width 100 --ignore-obsolete; \
	done
