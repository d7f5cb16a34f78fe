"""The Celery application: JSON only, late acks, time limits, tasks found in every app."""

import os
import time

from celery import Celery
from celery.signals import task_postrun, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("ikm")
# Every CELERY_* setting (serializer, acks_late, time limits, beat schedule) lives in settings.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Where a worker leaves the time it last ran the heartbeat (the cache: Redis when REDIS_URL is
# set); /healthz reads its age.
HEARTBEAT_KEY = "ikm:worker-heartbeat"


def write_heartbeat() -> None:
    from django.core.cache import cache

    cache.set(HEARTBEAT_KEY, time.time(), timeout=None)


@app.task(name="config.heartbeat", ignore_result=True, acks_late=False)
def heartbeat() -> None:
    """Run by a worker every minute (beat): proof, for /healthz, that workers take jobs."""
    write_heartbeat()


@worker_ready.connect
def heartbeat_on_start(sender: object = None, **kwargs: object) -> None:
    """A worker that just started is alive: no need to wait for beat's first minute."""
    write_heartbeat()


@task_postrun.connect
def close_old_database_connections(sender: object = None, **kwargs: object) -> None:
    """Drop a broken or expired database connection after a task, as a request's end does."""
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return  # an eager task runs inside its caller's request and transaction
    from django.db import close_old_connections

    close_old_connections()
