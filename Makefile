# The two commands a newcomer needs: `make demo` and `make test`. Each sets up what it uses.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export CMSBOT_TEST_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/test

.PHONY: install demo test lint typecheck audit-deps pytest bench bench-full clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "cmsbot needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# The demo always shows the embedded store, whatever the shell says.
demo: export CMSBOT_DATABASE_URL =

demo: $(STAMP)
	@echo "== Creating the embedded store var/cmsbot.sqlite (kept if it exists)"
	$(BIN)/cmsbot db init
	@echo "== Importing the StC44 report (UNEP/CMS/StC44/18) into it"
	$(BIN)/cmsbot import --seed
	@echo "== Importing it again records nothing new"
	$(BIN)/cmsbot import --seed
	@for q in "status of IWC JWP" \
	          "where are we with the CITES joint work plan?" \
	          "programme officer" \
	          "history of the CITES JWP" \
	          "upcoming workshops" \
	          "what do we have with Ramsar?" \
	          "who submitted on civil society?"; do \
	  echo; echo "== cmsbot ask --as-at 2015-09-01 \"$$q\""; \
	  $(BIN)/cmsbot ask --as-at 2015-09-01 "$$q"; \
	done
	@echo; echo "== The same store answers in JSON too:"
	$(BIN)/cmsbot ask --json --as-at 2015-09-01 "status of the IOTC MoC"
	@echo; echo "== The digest a channel would have got that week, and the log's tamper check:"
	$(BIN)/cmsbot digest preview --channel C1 --as-at 2015-09-01
	$(BIN)/cmsbot audit verify
	@echo; echo "== The next reports: what happened after StC44, from public sources, checked first"
	$(BIN)/cmsbot import --check tests/data/later-history-2015-2017.yaml
	$(BIN)/cmsbot import tests/data/later-history-2015-2017.yaml
	$(BIN)/cmsbot import tests/data/later-history-cop12.yaml
	@for q in "what was the status of the Caribbean workshop on 1 June 2016?" \
	          "history of the Caribbean workshop" \
	          "what is overdue as at 1 September 2016" \
	          "has MIKT been held as at 1 August 2016?" \
	          "what happened since StC44 as at 1 January 2016"; do \
	  echo; echo "== cmsbot ask \"$$q\""; \
	  $(BIN)/cmsbot ask "$$q"; \
	done
	@echo
	@echo "Go on with: $(BIN)/cmsbot ask --as-at 2015-09-01 \"what's coming up\""
	@echo "($(BIN)/cmsbot --help lists every command; docs/usage.md explains them)"

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

# Known vulnerabilities in what is installed (pip-audit), when PyPI's JSON API answers; a
# note and a skip when it does not. AUDIT_ARGS goes to pip-audit, e.g. --ignore-vuln ID.
audit-deps: $(STAMP)
	$(BIN)/python .ci/audit_deps.py $(AUDIT_ARGS)

pytest: $(STAMP)
	$(BIN)/pytest -n 2

test: lint typecheck audit-deps pytest

bench: $(STAMP)
	$(BIN)/python -m bench.run --mode quick

bench-full: $(STAMP)
	$(BIN)/python -m bench.run --mode full

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache .hypothesis
