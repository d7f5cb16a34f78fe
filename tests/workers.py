"""A real Celery worker process on Redis, consuming a queue of its own, for service tests.

The worker reads the test database (PostgreSQL: the test data must be committed, so tests
using it are `transaction=True`) and writes e-mails as files into a temporary folder.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import redis
from django.conf import settings
from django.db import connection
from kombu import pools

from config.celery_app import app
from tests.processes import stop as stop_process

ROOT = Path(settings.BASE_DIR)


class RealWorker:
    def __init__(self, mail_dir: Path, log_dir: Path, redis_url: str = "") -> None:
        self.queue = f"test-{uuid.uuid4().hex[:12]}"
        self.mail_dir = mail_dir
        self.log_dir = log_dir
        # The broker: REDIS_URL's by default; a fault test's own Redis when given.
        self.redis_url = redis_url or os.environ["REDIS_URL"]
        self.process: subprocess.Popen | None = None
        self.starts = 0
        self.extra_env: dict[str, str] = {}

    def env(self) -> dict[str, str]:
        db = connection.settings_dict
        url = (
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        )
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": url,
            "REDIS_URL": self.redis_url,
            "TEST_EMAIL_FILE_PATH": str(self.mail_dir),
            "TEST_WORKER_QUEUE": self.queue,
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }

    def start(self, concurrency: int = 1, app_module: str = "config.celery_app") -> None:
        """Start the worker (of the Celery app module `app_module`) and wait until it answers a ping
        on its queue."""
        self.starts += 1
        log = open(self.log_dir / f"worker-{self.starts}.log", "wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                app_module,
                "worker",
                "-Q",
                self.queue,
                "-n",
                f"{self.queue}-{self.starts}@%h",
                "--concurrency",
                str(concurrency),
                "--prefetch-multiplier",
                "1",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                "INFO",
            ],
            cwd=ROOT,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited: {self.log()}")
            replies = app.control.ping(
                destination=[f"{self.queue}-{self.starts}@{os.uname()[1]}"], timeout=1
            )
            if replies:
                return
        raise RuntimeError(f"worker did not start: {self.log()}")

    def log(self) -> str:
        path = self.log_dir / f"worker-{self.starts}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def pool_children(self) -> list[int]:
        """The pids of the worker's pool processes (those that run the tasks)."""
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if self.process and int(fields[1]) == self.process.pid:
                children.append(int(stat.parent.name))
        return children

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and pool children), as a crash would."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def mails(self) -> list[Path]:
        return sorted(self.mail_dir.glob("*.log"))


def use_broker(queue: str, redis_url: str = "") -> dict:
    """Point this process's Celery app at Redis and the worker's queue; returns what to restore."""
    saved = {
        key: app.conf.get(key)
        for key in ("broker_url", "result_backend", "task_always_eager", "task_default_queue")
    }
    app.conf.update(
        broker_url=redis_url or os.environ["REDIS_URL"],
        result_backend=redis_url or os.environ["REDIS_URL"],
        task_always_eager=False,
        task_default_queue=queue,
    )
    _reset_connections()
    return saved


def restore_broker(saved: dict) -> None:
    app.conf.update(**saved)
    _reset_connections()


def _reset_connections() -> None:
    # The producer pool and the result backend are cached with the old URLs.
    # kombu keeps pools in a shared registry: reset it, not just our handle on it.
    pools.reset()
    app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None
    app._backend_cache = None
    app._local.__dict__.pop("backend", None)


class RedisServer:
    """A redis-server of a fault test's own, on a free loopback port, that it stops and starts
    (no persistence: what it held is gone when stopped, as after a crash)."""

    def __init__(self, log_dir: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log_dir = log_dir
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        log = open(self.log_dir / f"redis-{self.port}.log", "ab")
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                client.ping()
                return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not start")

    def stop(self) -> None:
        stop_process(self.process)
