# Outreach: `make run` runs the whole system, `make test` runs the suite. Both set up .venv first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum requirements.txt | cut -d' ' -f1)

.PHONY: run test lint bench soak bench-import migrate demo clean

$(STAMP): requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

run: export DEBUG ?= true
run: export UNIPILE_SANDBOX ?= true
run: export UNIPILE_WEBHOOK_SECRET ?= dev-sandbox-webhook-secret
run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py demo
	$(BIN)/python manage.py runall

test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Every benchmark on PostgreSQL and Redis (as CI has them); data is built once in outreach_bench and reused.
bench: export DEBUG ?= true
bench: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/outreach_bench
bench: export REDIS_URL ?= redis://127.0.0.1:6379/3
bench: $(STAMP)
	@psql -h 127.0.0.1 -U postgres -lqt 2>/dev/null | cut -d'|' -f1 | grep -qw outreach_bench || createdb -h 127.0.0.1 -U postgres outreach_bench
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py bench

# The whole system for SOAK_MINUTES under injected faults, on a fresh PostgreSQL database and a Redis db of its own.
SOAK_MINUTES ?= 10
soak: export DEBUG = true
soak: export UNIPILE_SANDBOX = true
soak: export DATABASE_URL = postgres://postgres@127.0.0.1:5432/outreach_soak
soak: export REDIS_URL = redis://127.0.0.1:6379/5
soak: $(STAMP)
	@dropdb -h 127.0.0.1 -U postgres --if-exists outreach_soak && createdb -h 127.0.0.1 -U postgres outreach_soak
	@redis-cli -h 127.0.0.1 -n 5 flushdb >/dev/null
	$(BIN)/python manage.py soak --minutes $(SOAK_MINUTES) --workers 4

bench-import: export DEBUG ?= true
bench-import: $(STAMP)
	$(BIN)/python manage.py bench_import --rows 50000

clean:
	rm -rf $(VENV) var
