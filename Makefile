# Two commands for a newcomer: `make run` and `make test`. Both build .venv from pyproject.toml,
# as does `make backup TO=path` (an online copy of the database).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test

.PHONY: run test lint bench backup clean

ifneq ($(filter backup,$(MAKECMDGOALS)),)
ifeq ($(strip $(TO)),)
$(error make backup needs TO, the file to write the copy to (for example make backup TO=../breakroom-backup.db))
endif
endif

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(STAMP_TEST): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@ $(STAMP_RUN)

run: $(STAMP_RUN)
	$(PY) -m bot

lint: $(STAMP_TEST)
	$(PY) -m ruff check bot cogs tests
	$(PY) -m ruff format --check bot cogs tests
	$(PY) -m mypy bot cogs

test: lint
	$(PY) -m pytest

backup: $(STAMP_RUN)
	$(PY) -m bot backup "$(TO)"

bench: $(STAMP_TEST)
	$(PY) -m tests.bench

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
