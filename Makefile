# Two commands for a newcomer: `make run` (the app at http://127.0.0.1:8000) and `make test`.
# Everything else here is what those two, CI and docker-compose call.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DJANGO_SETTINGS_MODULE ?= config.settings.local
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?= -n auto

.PHONY: run test install install-dev migrate demo serve worker beat schema bench load messages screenshots clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found " + sys.version.split()[0] + "); set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)

# A stamp per pin file: a second run skips the install unless the pins changed.
$(VENV)/.installed-base: requirements/base.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/base.txt
	@touch $@

$(VENV)/.installed-dev: requirements/dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	@touch $@ $(VENV)/.installed-base

install: $(VENV)/.installed-base
install-dev: $(VENV)/.installed-dev

migrate: install
	$(BIN)/python manage.py preflight
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py load_demo

run: demo
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python manage.py spectacular --fail-on-warn --validate --file /dev/null
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python -m pytest $(PYTEST_ARGS)

# Production-like processes (docker-compose runs these same targets).
serve: install
	$(BIN)/python manage.py preflight
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/gunicorn config.wsgi:application --bind $(HOST):$(PORT) --workers $${WEB_CONCURRENCY:-3} --access-logfile -

worker: install
	$(BIN)/python manage.py preflight
	$(BIN)/celery -A config.celery_app worker --loglevel=INFO --concurrency=$${CELERY_CONCURRENCY:-2}

beat: install
	$(BIN)/python manage.py preflight
	@mkdir -p var
	$(BIN)/celery -A config.celery_app beat --loglevel=INFO --schedule=$${CELERY_BEAT_SCHEDULE_FILE:-var/celerybeat-schedule}

schema: install
	$(BIN)/python manage.py spectacular --fail-on-warn --validate --file var/schema.yaml

# Benchmarks: run by hand against PostgreSQL (see docs/benchmarks.md); not part of `make test`.
bench: install-dev
	@test -n "$$DATABASE_URL" || { echo "make bench needs DATABASE_URL=postgres://postgres@127.0.0.1:5432/ikm_bench (and REDIS_URL for the notices)"; exit 2; }
	$(BIN)/python bench/recompute_programme.py --items 10000
	$(BIN)/python bench/recompute_programme.py --items 100000
	$(BIN)/python bench/audit_trail.py
	$(BIN)/python bench/notices.py
	$(BIN)/python bench/api_list.py

# The deadline-rush load test (docs/benchmarks.md "Load: deadline rush"): gunicorn, a Celery
# worker and locust on 127.0.0.1 against a fresh PostgreSQL database ikm_load and Redis db 5,
# for LOAD_DURATION seconds (90) with LOAD_USERS users (30); needs both servers running.
load: install-dev
	bench/load/run.sh

# Phone-width PNGs of the applicant's pages into docs/screenshots/, from the running demo
# (`make run` in another terminal; BASE_URL=http://127.0.0.1:8000 by default; needs /usr/bin/chromium).
BASE_URL ?= http://127.0.0.1:$(PORT)
screenshots: install-dev
	$(BIN)/python docs/screenshots/capture.py --base-url $(BASE_URL)

messages: install-dev
	$(BIN)/python manage.py makemessages -l id -l en --no-obsolete -i ".venv/*" -i "bench/*" -i "tests/*"
	$(BIN)/python manage.py compilemessages -i .venv

clean:
	rm -rf $(VENV) db.sqlite3 var
