"""Benchmark send_notice on one real Celery worker against the limit: no-op tasks on it.

Run by hand against PostgreSQL and Redis (the database is created when missing):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ikm_bench_notices \\
    REDIS_URL=redis://127.0.0.1:6379/7 \\
        .venv/bin/python bench/notices.py --notices 10000 --concurrency 4 --repeat 3

It starts one worker (`celery -A bench.celery_bench`, prefork, the given concurrency, the
project's settings with DEBUG off and e-mail to Django's dummy backend, which sends nothing),
then for each run publishes N tasks to a queue the worker does not consume yet, tells the
worker to consume it, and times until the queue is drained and every message acknowledged.
Runs alternate (limit, notices, limit, notices, ...) so that load from elsewhere on the
machine hits both alike. It prints tasks/s of both (best runs), their ratio (goal >= 0.5)
and the ratio of each pair of runs. BENCH_REUSE_DB_CONNECTIONS=1 (with DATABASE_CONN_MAX_AGE)
makes the worker keep its database connection between tasks; see bench/celery_bench.py.
Use a Redis database of its own: "drained" reads the broker's `unacked` hash, which every
worker on the same database shares.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ikm_bench_notices")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/7")
os.environ["DJANGO_DEBUG"] = "0"  # DEBUG keeps every query's SQL in memory

import django  # noqa: E402

django.setup()

import celery  # noqa: E402
import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from accounts.models import User  # noqa: E402
from bench.celery_bench import app, noop  # noqa: E402
from bench.common import ensure_database, log  # noqa: E402
from subsidy.models import Notice  # noqa: E402
from subsidy.notices import compose as notices  # noqa: E402
from subsidy.tasks import send_notice  # noqa: E402

GOAL = 0.5
KEY_PREFIX = "bench-notice:"
RECIPIENTS = 100


def recipients() -> list[User]:
    users = []
    for n in range(RECIPIENTS):
        user, _ = User.objects.get_or_create(
            username=f"bench-penerima-{n}",
            defaults={"email": f"penerima{n}@bench.test", "language": ("id", "en")[n % 2]},
        )
        users.append(user)
    return users


def seed_notices(count: int, users: list[User], run: int) -> list[int]:
    """`count` pending notices as the workflow leaves them (rendered, not yet sent)."""
    made = []
    for n in range(count):
        user = users[n % len(users)]
        context = {
            "reference": f"RMP-2026-{n:06d}",
            "application": None,
            "company": f"CV Bench {n}",
            "status": "submitted",
            "programme_year": 2026,
            "url": notices.case_url(n, staff=False),
        }
        title, text = notices.render("submitted", user.language, context)
        made.append(
            Notice(
                key=f"{KEY_PREFIX}{run}:{n}",
                recipient=user,
                kind="submitted",
                language=user.language,
                title=title,
                body=text,
                context=context,
            )
        )
    return [n.pk for n in Notice.objects.bulk_create(made, batch_size=2000)]


def clean_notices() -> None:
    Notice.objects.filter(key__startswith=KEY_PREFIX).delete()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE subsidy_notice")


def settle() -> None:
    """Give every timed run the same start: no dirty pages left for a checkpoint to write."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE subsidy_notice")
        cursor.execute("CHECKPOINT")


class Worker:
    def __init__(self, concurrency: int, log_path: Path) -> None:
        self.name = f"bench-{uuid.uuid4().hex[:8]}"
        self.idle_queue = f"{self.name}-idle"
        self.concurrency = concurrency
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": os.environ["DJANGO_SETTINGS_MODULE"],
            "EMAIL_URL": "dummymail://",
            "LOG_LEVEL": os.environ.get("BENCH_WORKER_LOG_LEVEL", "WARNING"),
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "bench.celery_bench",
                "worker",
                "-Q",
                self.idle_queue,
                "-n",
                f"{self.name}@%h",
                "--concurrency",
                str(self.concurrency),
                "--pool",
                "prefork",
                "--prefetch-multiplier",
                "1",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                os.environ.get("BENCH_WORKER_LOG_LEVEL", "WARNING"),
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log_path.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"the worker exited:\n{self.log_path.read_text()[-3000:]}")
            if app.control.ping(destination=[self.node], timeout=1):
                return
        sys.exit(f"the worker did not start:\n{self.log_path.read_text()[-3000:]}")

    @property
    def node(self) -> str:
        return f"{self.name}@{os.uname()[1]}"

    def consume(self, queue: str) -> None:
        reply = app.control.add_consumer(queue, destination=[self.node], reply=True, timeout=10)
        if not reply:
            sys.exit(f"the worker did not start consuming {queue}")

    def release(self, queue: str) -> None:
        app.control.cancel_consumer(queue, destination=[self.node], reply=True, timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)


def drained(broker: redis.Redis, queue: str) -> bool:
    # kombu's Redis transport keeps a delivered, not yet acknowledged message in `unacked`.
    return broker.llen(queue) == 0 and broker.hlen("unacked") == 0


def timed_run(worker: Worker, broker: redis.Redis, publish) -> tuple[float, int]:
    """Publish to a fresh queue the worker does not consume, then time it draining that queue."""
    queue = f"{worker.name}-run-{uuid.uuid4().hex[:6]}"
    count = publish(queue)
    if broker.llen(queue) != count:
        sys.exit(f"published {count}, the queue holds {broker.llen(queue)}")
    started = time.perf_counter()
    worker.consume(queue)
    while True:
        time.sleep(0.02)
        if not drained(broker, queue):
            continue
        finished = time.perf_counter()
        # Seen twice: a message the worker has just popped from the list reaches `unacked`
        # a moment later, and the first look may fall in between.
        time.sleep(0.05)
        if drained(broker, queue):
            break
    elapsed = finished - started
    worker.release(queue)
    return elapsed, count


def publish_noop(count: int):
    def publish(queue: str) -> int:
        with app.producer_or_acquire() as producer:
            for n in range(count):
                noop.apply_async(args=[n], queue=queue, producer=producer)
        return count

    return publish


def publish_notices(ids: list[int]):
    def publish(queue: str) -> int:
        with app.producer_or_acquire() as producer:
            for pk in ids:
                send_notice.apply_async(args=[pk], queue=queue, producer=producer)
        return len(ids)

    return publish


def machine() -> dict[str, object]:
    with open("/proc/meminfo") as meminfo:
        total_kib = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    with open("/proc/cpuinfo") as cpuinfo:
        cpu = next((ln.split(":", 1)[1].strip() for ln in cpuinfo if "model name" in ln), "?")
    return {
        "cpu": cpu,
        "nproc": os.cpu_count(),
        "memory_gib": round(total_kib / 1024 / 1024, 1),
        "loadavg_at_start": os.getloadavg(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "celery": celery.__version__,
        "postgresql": pg_version,
        "redis": redis.Redis.from_url(os.environ["REDIS_URL"]).info()["redis_version"],
        "conn_max_age": settings.DATABASES["default"]["CONN_MAX_AGE"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="also print the results as JSON")
    args = parser.parse_args()

    info_load = os.getloadavg()
    ensure_database()
    call_command("migrate", verbosity=0)
    clean_notices()
    users = recipients()
    broker = redis.Redis.from_url(os.environ["REDIS_URL"])
    if broker.hlen("unacked"):
        sys.exit("the Redis database has unacknowledged messages: use a database of its own")
    log_dir = Path(tempfile.mkdtemp(prefix="bench-notices-"))
    worker = Worker(args.concurrency, log_dir / "notices-worker.log")
    log(f"starting a worker, concurrency {args.concurrency}")
    worker.start()
    limit_runs, notice_runs = [], []
    try:
        for run in range(args.repeat):
            settle()
            seconds, count = timed_run(worker, broker, publish_noop(args.notices))
            limit_runs.append(seconds)
            log(f"limit run {run + 1}: {count} no-op tasks in {seconds:.2f} s")

            clean_notices()  # each run starts from the same table, without the last run's rows
            ids = seed_notices(args.notices, users, run)
            settle()
            seconds, count = timed_run(worker, broker, publish_notices(ids))
            sent = Notice.objects.filter(pk__in=ids, status=Notice.Status.SENT).count()
            if sent != count:
                sys.exit(f"only {sent} of {count} notices were sent: see {worker.log_path}")
            notice_runs.append(seconds)
            log(f"notice run {run + 1}: {count} notices sent in {seconds:.2f} s")
    finally:
        worker.stop()
        clean_notices()

    info = machine()
    info["loadavg_at_start"] = info_load
    limit_best, notice_best = min(limit_runs), min(notice_runs)
    # Each notice run against the limit run just before it: load from elsewhere on the
    # machine drifts more slowly than one pair takes.
    paired = sorted(lim / n for lim, n in zip(limit_runs, notice_runs, strict=True))
    result = {
        "notices": args.notices,
        "concurrency": args.concurrency,
        "limit_seconds": [round(s, 2) for s in limit_runs],
        "notice_seconds": [round(s, 2) for s in notice_runs],
        "limit_tasks_per_s": round(args.notices / limit_best),
        "notices_per_s": round(args.notices / notice_best),
        "ratio": round(limit_best / notice_best, 3),
        "paired_ratios": [round(r, 3) for r in paired],
        "median_paired_ratio": round(statistics.median(paired), 3),
        "goal": GOAL,
        "machine": info,
    }
    rows = [
        ("tasks per run", f"{args.notices:,} (worker concurrency {args.concurrency}, prefork)"),
        ("limit: no-op tasks, best", f"{limit_best:.2f} s  {result['limit_tasks_per_s']:,}/s"),
        ("send_notice, best", f"{notice_best:.2f} s  {result['notices_per_s']:,}/s"),
        ("ratio notices/limit", f"{result['ratio']:.3f}  (best/best; goal >= {GOAL})"),
        ("ratio of each pair", ", ".join(f"{r:.3f}" for r in paired)),
        ("all runs (limit)", ", ".join(f"{s:.2f}" for s in limit_runs) + " s"),
        ("all runs (notices)", ", ".join(f"{s:.2f}" for s in notice_runs) + " s"),
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
