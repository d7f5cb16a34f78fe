"""Settings of the API list benchmark's server (bench/api_list.py): local ones plus the limit."""

from config.settings.local import *  # noqa: F403

ROOT_URLCONF = "bench.api_list_urls"
DEBUG = False
# Persistent connections, as a production server would keep them.
DATABASES["default"]["CONN_MAX_AGE"] = 600  # noqa: F405
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
