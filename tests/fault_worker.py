"""The Celery app of a fault test's real worker: every computation it stores is appended, as
"application version" lines, to the file FAULT_STORE_LOG names, so a test can count the
computations per application (none lost, none doubled) after a kill or an outage."""

import os

from celery.signals import worker_process_init

from config.celery_app import app

__all__ = ["app"]


@worker_process_init.connect
def _log_stored_computations(**kwargs: object) -> None:
    from subsidy.engine import store
    from subsidy.models import Application

    path = os.environ["FAULT_STORE_LOG"]
    write = store.write

    def logged(app_rows, item_rows, now):
        result = write(app_rows, item_rows, now)
        stored = Application.objects.filter(
            pk__in=[row[0] for row in app_rows], computed_at=now
        ).values_list("pk", "data_version")
        lines = "".join(f"{pk} {version}\n" for pk, version in stored)
        if lines:
            with open(path, "a") as log:
                log.write(lines)
        return result

    store.write = logged
