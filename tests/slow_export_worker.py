"""The Celery app of a real test worker whose export rows come slowly (EXPORT_TEST_ROW_DELAY
seconds each), so a test can watch the progress rise or kill the worker mid-export."""

import os
import time

from celery.signals import worker_process_init

from config.celery_app import app

__all__ = ["app"]


@worker_process_init.connect
def _slow_export_rows(**kwargs: object) -> None:
    from subsidy.exports import rows

    delay = float(os.environ.get("EXPORT_TEST_ROW_DELAY", "0.01"))

    def slowly(generator):
        def rows_of(queryset):
            for row in generator(queryset):
                time.sleep(delay)
                yield row

        return rows_of

    rows.application_rows = slowly(rows.application_rows)
    rows.item_rows = slowly(rows.item_rows)
