"""The Celery application: JSON only, late acks, time limits, tasks found in every app."""

import os

from celery import Celery
from celery.signals import task_postrun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("ikm")
# Every CELERY_* setting (serializer, acks_late, time limits, beat schedule) lives in settings.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="config.ping", ignore_result=False, acks_late=False)
def ping() -> str:
    """Round trip through the broker and a worker, used by /healthz."""
    return "pong"


@task_postrun.connect
def close_old_database_connections(sender: object = None, **kwargs: object) -> None:
    """Drop a broken or expired database connection after a task, as a request's end does."""
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return  # an eager task runs inside its caller's request and transaction
    from django.db import close_old_connections

    close_old_connections()
