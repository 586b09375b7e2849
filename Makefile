# The two commands that matter: `make run` and `make test` (both set up what is missing).
SHELL := /bin/bash
PY := .venv/bin/python

.PHONY: setup run test lint unit bench images clean

setup:
	@bash scripts/setup.sh

# the stack logs in to its own Mosquitto and Redis (users, passwords, the ACL) started by setup:
# their settings are in the env file `python -m callcenter.infra.local_services env` names
run: setup
	@env_file="$$($(PY) -m callcenter.infra.local_services env)" && set -a && . "$$env_file" && set +a && \
	  export CALLCENTER_LOCAL_ENV_FILE="$$env_file" && \
	  $(PY) -m callcenter.cli migrate && $(PY) -m callcenter.cli seed && exec $(PY) -m callcenter.cli run --sandbox

# The suite on parallel workers (pytest-xdist): most of its time is real-time waiting (calls,
# timers), so workers overlap their waits (4 on 2 cores made real-time bounds flaky); each worker has its own database, Redis prefix, MQTT
# prefix, ports and Asterisk (tests/conftest.py). A file stays on one worker (its module fixtures
# are built once). TEST_WORKERS=0 runs it in this one process.
TEST_WORKERS ?= 2

test: setup
	@.venv/bin/ruff check .
	@$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile

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
