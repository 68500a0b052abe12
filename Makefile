# Two commands for users: `make refresh` and `make test`. Both create .venv on first use.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: refresh test validate bench install clean package-smoke docs

install: $(STAMP)

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "trialmeta needs Python >= 3.11; set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	@touch $(STAMP)

refresh: $(STAMP)
	$(BIN)/trialmeta refresh

test: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/python -m pytest --nbmake tests docs/tutorials
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

docs: $(STAMP)
	$(BIN)/mkdocs serve

validate: $(STAMP)
	$(BIN)/trialmeta validate trials/

package-smoke: $(STAMP)
	PYTHON=$(BIN)/python bash .ci/package-smoke

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_pool.py
	$(BIN)/python benchmarks/bench_refresh.py

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
