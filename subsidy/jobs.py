"""Queue Celery jobs once the caller's transaction commits, by task name.

Services and the engine name the job they need rather than importing subsidy.tasks, which
imports them: the tasks call services, never the other way round, so there is no cycle.
"""

from celery import current_app
from django.db import transaction

COMPUTE_APPLICATION = "subsidy.tasks.compute_application"
RECOMPUTE_PROGRAMME = "subsidy.tasks.recompute_programme"
SEND_NOTICE = "subsidy.tasks.send_notice"
RUN_EXPORT = "subsidy.tasks.run_export"
SCAN_DOCUMENT = "subsidy.tasks.scan_document"


def enqueue_after_commit(task_name: str, *args: object) -> None:
    """Queue the task after commit; a rolled-back transaction queues nothing."""
    # The registered task itself (not send_task), so eager settings run it in process.
    transaction.on_commit(lambda: current_app.tasks[task_name].delay(*args))
