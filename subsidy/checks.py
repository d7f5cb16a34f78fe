"""System checks of the Celery settings that settings alone cannot see."""

from django.core.checks import Error, register


@register()
def visibility_timeout_above_task_limits(app_configs: object = None, **kwargs: object) -> list:
    """Redis hands an unacknowledged message to another worker after the visibility timeout:
    it must exceed every registered task's hard time limit, or a task still running is run a
    second time at once."""
    from config.celery_app import app

    timeout = (app.conf.broker_transport_options or {}).get("visibility_timeout")
    limits = {
        name: task.time_limit or app.conf.task_time_limit or 0
        for name, task in app.tasks.items()
        if not name.startswith("celery.")
    }
    name, longest = max(limits.items(), key=lambda pair: pair[1], default=("", 0))
    if timeout is None or timeout <= longest:
        return [
            Error(
                f"The broker's visibility_timeout ({timeout}) is not above the longest task "
                f"time limit ({name}: {longest} s).",
                hint="Set CELERY_VISIBILITY_TIMEOUT above it (config/settings/base.py).",
                id="subsidy.E001",
            )
        ]
    return []
