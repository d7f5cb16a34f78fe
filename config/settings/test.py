"""Settings for the test suite: fast hashing, no throttling in the way, files under var/test/."""

from .base import *  # noqa: F403
from .base import BASE_DIR, DATA_LOGGERS, REST_FRAMEWORK, env

DEBUG = False
SECRET_KEY = "test-only-key"  # noqa: S105
AUDIT_HMAC_KEY = "test-only-audit-key"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Fixed folders in the project's var/ (ignored by git), never a new one per process under the
# system's temp folder. Each test gets a folder of its own for documents (tests/conftest.py).
TEST_FILES_ROOT = BASE_DIR / "var" / "test"
PRIVATE_MEDIA_ROOT = TEST_FILES_ROOT / "private"
AUDIT_ANCHOR_DIR = TEST_FILES_ROOT / "audit-anchors"
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {
    "auth": "100000/min",
    "register": "100000/min",
    "upload": "100000/min",
    "eligibility": "100000/min",
    "statistics": "100000/min",
}
# Tests run the Celery tasks in process unless a test starts a real worker. That worker
# (tests/workers.py) runs these settings too: there, what a task queues (a retry, the export
# the sweep queues again, a notice) goes to the worker's own queue as in production, never run
# inline inside the task that queued it.
TEST_WORKER_QUEUE = env.str("TEST_WORKER_QUEUE", default="")
CELERY_TASK_ALWAYS_EAGER = not TEST_WORKER_QUEUE
if TEST_WORKER_QUEUE:
    CELERY_TASK_DEFAULT_QUEUE = TEST_WORKER_QUEUE
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
DEMO_USERS_ALLOWED = True
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"level": "WARNING"},
    "loggers": DATA_LOGGERS,
}
TEST_REDIS_URL = env.str("REDIS_URL", default="")
# A real worker started by a test writes e-mails where the test can read them.
if env.str("TEST_EMAIL_FILE_PATH", default=""):
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = env.str("TEST_EMAIL_FILE_PATH")
# WhiteNoise warns about a STATIC_ROOT that does not exist; an empty one is all tests need.
STATIC_ROOT = TEST_FILES_ROOT / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Many sign-ups and log-ins from one address in a few seconds are the test suite, not an attack.
ACCOUNT_RATE_LIMITS = False
