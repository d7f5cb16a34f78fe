"""Queue Celery jobs once the caller's transaction commits, by task name.

Services and the engine name the job they need rather than importing subsidy.tasks, which
imports them: the tasks call services, never the other way round, so there is no cycle.

With the broker down, what committed stays committed and the request answers its success:
the failed queueing is logged, and the work stays findable in the database for the beat job
that queues it again (requeue_stale_computations, requeue_stuck_notices, sweep_exports).
"""

import logging
import time

from celery import current_app
from django.db import transaction
from kombu.exceptions import KombuError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

COMPUTE_APPLICATION = "subsidy.tasks.compute_application"
RECOMPUTE_PROGRAMME = "subsidy.tasks.recompute_programme"
COMPUTE_CHUNK = "subsidy.tasks.compute_chunk"
SEND_NOTICE = "subsidy.tasks.send_notice"
RUN_EXPORT = "subsidy.tasks.run_export"
SCAN_DOCUMENT = "subsidy.tasks.scan_document"

# What a broker that is down, unreachable or too slow raises when a message is published.
BROKER_ERRORS = (KombuError, RedisError, OSError, TimeoutError)
# After a failure this process does not try the broker again for this long: each try costs
# its timeouts (a frozen Redis: the socket timeout, twice), and a request may queue several
# jobs. What is not queued meanwhile is left to the beat jobs, like what failed.
BROKER_RETRY_AFTER_SECONDS = 10.0
_broker_down_until = 0.0


def enqueue(task_name: str, *args: object) -> bool:
    """Queue the task now; False (logged) when the broker cannot take it."""
    global _broker_down_until
    task = current_app.tasks[task_name]
    if task.app.conf.task_always_eager:
        # Eager (tests, the embedded default): the task runs here and its errors are its own.
        task.delay(*args)
        return True
    if time.monotonic() < _broker_down_until:
        logger.error("broker down: %s%r not queued, left for the beat job", task_name, args)
        return False
    try:
        task.delay(*args)
    except BROKER_ERRORS as error:
        _broker_down_until = time.monotonic() + BROKER_RETRY_AFTER_SECONDS
        logger.error("could not queue %s%r, left for the beat job: %s", task_name, args, error)
        return False
    return True


def broker_back() -> None:
    """Forget a broker failure (tests; the next enqueue tries the broker again)."""
    global _broker_down_until
    _broker_down_until = 0.0


def enqueue_after_commit(task_name: str, *args: object) -> None:
    """Queue the task after commit; a rolled-back transaction queues nothing."""
    # The registered task itself (not send_task), so eager settings run it in process.
    transaction.on_commit(lambda: enqueue(task_name, *args))
