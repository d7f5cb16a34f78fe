"""The Celery app for bench/notices.py: the project's app and its tasks, plus a no-op task.

The worker is started with `-A bench.celery_bench`, so it knows `bench.noop` (the limit)
as well as `subsidy.tasks.send_notice` (what is measured).

With BENCH_REUSE_DB_CONNECTIONS=1 the worker keeps its database connection between tasks
(the settings proposed in docs/benchmarks.md): Celery's Django fixup otherwise closes it
after every task, whatever CONN_MAX_AGE says, and each notice opens a new one.
"""

import os

from celery.signals import task_postrun

from config.celery_app import app

__all__ = ["app", "noop"]

if os.environ.get("BENCH_REUSE_DB_CONNECTIONS") == "1":
    # Read by the fixup when the worker starts: recycle every 1000 tasks instead of each one.
    app.conf.update(CELERY_DB_REUSE_MAX=1000)

    @task_postrun.connect
    def _close_old_connections(sender: object = None, **kwargs: object) -> None:
        from django.db import close_old_connections

        # As at the end of a request: drop a broken connection or one past CONN_MAX_AGE.
        # (An eager task runs in its caller's transaction: leave that one alone.)
        if not getattr(getattr(sender, "request", None), "is_eager", False):
            close_old_connections()


# The same delivery options as send_notice (late ack, no stored result): the difference
# between the two runs is the notice's own work.
@app.task(name="bench.noop", acks_late=True, ignore_result=True)
def noop(n: int) -> int:
    return n
