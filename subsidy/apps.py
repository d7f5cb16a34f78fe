from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SubsidyConfig(AppConfig):
    name = "subsidy"
    verbose_name = _("Machine restructuring subsidy")
