from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SubsidyConfig(AppConfig):
    name = "subsidy"
    verbose_name = _("Machine restructuring subsidy")

    def ready(self) -> None:
        # Register the Celery tasks in every process, so subsidy.jobs finds them by name.
        from subsidy import checks, tasks  # noqa: F401
