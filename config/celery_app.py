"""The Celery application: JSON only, late acks, time limits, tasks found in every app."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("ikm")
# Every CELERY_* setting (serializer, acks_late, time limits, beat schedule) lives in settings.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="config.ping", ignore_result=False, acks_late=False)
def ping() -> str:
    """Round trip through the broker and a worker, used by /healthz."""
    return "pong"
