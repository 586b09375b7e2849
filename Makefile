# The two commands that matter: `make run` and `make test` (both set up what is missing).
SHELL := /bin/bash
PY := .venv/bin/python

.PHONY: setup run test lint unit bench images clean

setup:
	@bash scripts/setup.sh

run: setup
	@$(PY) -m callcenter.cli migrate
	@$(PY) -m callcenter.cli seed
	@$(PY) -m callcenter.cli run --sandbox

test: setup
	@.venv/bin/ruff check .
	@$(PY) -m pytest -q

unit:
	@$(PY) -m pytest -q tests/unit

lint:
	@.venv/bin/ruff check .

bench: setup
	@for b in scripts/bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

images: setup
	@python3 docker/build.py

clean:
	rm -rf .venv .pytest_cache .ruff_cache .mypy_cache .hypothesis
