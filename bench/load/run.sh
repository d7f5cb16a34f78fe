#!/usr/bin/env bash
# The deadline-rush load test (`make load`): production settings, a fresh PostgreSQL database,
# gunicorn and a real Celery worker on 127.0.0.1, locust headless for a bounded time, then the
# database checked against what the clients were told (bench/load/check.py). Everything this
# script starts is stopped on exit. Needs PostgreSQL on 127.0.0.1:5432 and Redis on
# 127.0.0.1:6379 (.ci/run starts both). The figures land in var/load/<time>/summary.md.
#
# Knobs (environment): LOAD_USERS (30), LOAD_SPAWN_RATE (5 per s), LOAD_DURATION (90 s),
# LOAD_APPLICANTS (600 prepared accounts), LOAD_VERIFIERS (4), LOAD_APPROVERS (2),
# LOAD_PORT (8790), LOAD_DB (ikm_load: dropped and made again), LOAD_REDIS_DB (5: flushed),
# WEB_CONCURRENCY (3 gunicorn workers), CELERY_CONCURRENCY (2), LOAD_THINK_MAX (1.0 s).
set -euo pipefail
cd "$(dirname "$0")/../.."

USERS="${LOAD_USERS:-30}"
SPAWN_RATE="${LOAD_SPAWN_RATE:-5}"
DURATION="${LOAD_DURATION:-90}"
APPLICANTS="${LOAD_APPLICANTS:-600}"
VERIFIERS="${LOAD_VERIFIERS:-4}"
APPROVERS="${LOAD_APPROVERS:-2}"
PORT="${LOAD_PORT:-8790}"
DB="${LOAD_DB:-ikm_load}"
REDIS_DB="${LOAD_REDIS_DB:-5}"
PG="-h 127.0.0.1 -p 5432 -U ${PGUSER:-postgres}"
BIN=.venv/bin

pg_isready -q $PG || { echo "load: PostgreSQL is not answering on 127.0.0.1:5432"; exit 2; }
redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null || { echo "load: Redis is not answering"; exit 2; }

RUN_DIR="var/load/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$RUN_DIR"
echo "load: run directory $RUN_DIR"

export DJANGO_SETTINGS_MODULE=config.settings.production
DJANGO_SECRET_KEY="$($BIN/python -c 'import secrets; print(secrets.token_urlsafe(64))')"
AUDIT_HMAC_KEY="$($BIN/python -c 'import secrets; print(secrets.token_urlsafe(48))')"
export DJANGO_SECRET_KEY AUDIT_HMAC_KEY
export DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost
export DATABASE_URL="postgres://${PGUSER:-postgres}@127.0.0.1:5432/$DB"
export REDIS_URL="redis://127.0.0.1:6379/$REDIS_DB"
# The console backend writes each e-mail to the worker's log: check.py counts Message-IDs.
export EMAIL_URL=consolemail://
export SITE_URL="http://127.0.0.1:$PORT"
export PRIVATE_MEDIA_ROOT="$PWD/$RUN_DIR/private"
# locust plays the TLS proxy: it sends X-Forwarded-Proto and a client address per user.
export TRUSTED_PROXY_COUNT=1
export WEB_CONCURRENCY="${WEB_CONCURRENCY:-3}"
export CELERY_CONCURRENCY="${CELERY_CONCURRENCY:-2}"

web_pid=""
worker_pid=""
probe_pid=""
stop() {
  [ -n "$probe_pid" ] && kill "$probe_pid" 2>/dev/null || true
  # Each server runs in a session of its own (setsid): its whole process group is ours.
  for pid in $web_pid $worker_pid; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for _ in $(seq 1 20); do
    alive=""
    for pid in $web_pid $worker_pid; do kill -0 -- "-$pid" 2>/dev/null && alive=1; done
    [ -z "$alive" ] && return 0
    sleep 0.5
  done
  for pid in $web_pid $worker_pid; do kill -KILL -- "-$pid" 2>/dev/null || true; done
}
trap stop EXIT

echo "load: fresh database $DB, Redis db $REDIS_DB"
redis-cli -h 127.0.0.1 -p 6379 -n "$REDIS_DB" FLUSHDB >/dev/null
dropdb $PG --if-exists --force "$DB"
createdb $PG "$DB"
$BIN/python manage.py migrate --noinput --verbosity 0
$BIN/python bench/load/prepare.py --applicants "$APPLICANTS" --verifiers "$VERIFIERS" \
  --approvers "$APPROVERS" --out "$RUN_DIR/people.json"

make install >/dev/null  # once, before the two servers
setsid make serve HOST=127.0.0.1 PORT="$PORT" >"$RUN_DIR/web.log" 2>&1 &
web_pid=$!
setsid make worker >"$RUN_DIR/worker.log" 2>&1 &
worker_pid=$!

# make serve runs preflight and collectstatic first (compressing every file: minutes on a busy
# two-core machine), hence the long bound.
health=""
for _ in $(seq 1 600); do
  health="$(curl -s --max-time 5 -H 'X-Forwarded-Proto: https' "http://127.0.0.1:$PORT/healthz" || true)"
  case "$health" in *'"database": "ok"'*'"broker": "ok"'*) break ;; esac
  sleep 1
done
for _ in $(seq 1 60); do
  grep -q "ready\." "$RUN_DIR/worker.log" && break
  sleep 1
done
echo "load: healthz $health"
case "$health" in *'"broker": "ok"'*) ;; *) tail -n 20 "$RUN_DIR/web.log"; exit 1 ;; esac
grep -q "ready\." "$RUN_DIR/worker.log" || { tail -n 20 "$RUN_DIR/worker.log"; exit 1; }

echo "load: $(nproc) cores; before: $(uptime)"
echo "load: locust $USERS users ($VERIFIERS verifiers, $APPROVERS approvers, the rest" \
  "applicants), spawn $SPAWN_RATE/s, ${DURATION}s, gunicorn $WEB_CONCURRENCY workers," \
  "Celery concurrency $CELERY_CONCURRENCY"
# /healthz as a load balancer would poll it, every 2 s through the rush: check.py counts its
# answers (a 503 would take a busy web machine out of the pool).
(
  while :; do
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 5 \
      -H 'X-Forwarded-Proto: https' "http://127.0.0.1:$PORT/healthz" || echo "000 5"
    sleep 2
  done
) >"$RUN_DIR/healthz.txt" &
probe_pid=$!
started=$(date +%s)
LOAD_PEOPLE="$RUN_DIR/people.json" LOAD_RESULTS="$RUN_DIR/results.json" \
  timeout --kill-after=10 $((DURATION + 150)) \
  $BIN/locust -f bench/load/locustfile.py --headless --only-summary --loglevel WARNING \
  --host "http://127.0.0.1:$PORT" --users "$USERS" --spawn-rate "$SPAWN_RATE" \
  --run-time "${DURATION}s" --stop-timeout 60 --csv "$RUN_DIR/locust" \
  >"$RUN_DIR/locust.log" 2>&1 || echo "load: locust exited $? (failures are counted below)"
echo "load: locust ran $(($(date +%s) - started)) s; after: $(uptime)"
kill "$probe_pid" 2>/dev/null || true

$BIN/python bench/load/check.py --run-dir "$RUN_DIR" --mail-log "$RUN_DIR/worker.log"
