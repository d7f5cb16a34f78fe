import warnings

from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from PIL import Image


class SubsidyConfig(AppConfig):
    name = "subsidy"
    verbose_name = _("Machine restructuring subsidy")

    def ready(self) -> None:
        # Register the Celery tasks in every process, so subsidy.jobs finds them by name.
        from subsidy import checks, tasks  # noqa: F401

        # Decompression bombs, in every process: Pillow warns past MAX_IMAGE_PIXELS (and
        # refuses past twice that); the warning is an error too, so no image that large is
        # ever decoded.
        Image.MAX_IMAGE_PIXELS = settings.MAX_IMAGE_PIXELS
        warnings.simplefilter("error", Image.DecompressionBombWarning)
