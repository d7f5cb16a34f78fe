"""Settings shared by every environment; everything that differs is read from the environment."""

import datetime as dt
import sqlite3
from pathlib import Path

from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from .documents import documents_storage
from .env import (
    env,
    read,
    read_bool,
    read_database,
    read_int,
    read_log_level,
    read_rate,
    read_redis_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent.parent

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
DEBUG = False
ALLOWED_HOSTS = read("DJANGO_ALLOWED_HOSTS", env.list, default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = read("DJANGO_CSRF_TRUSTED_ORIGINS", env.list, default=[])
SITE_URL = read("SITE_URL", env.str, default="http://127.0.0.1:8000").rstrip("/")
# How many reverse proxies stand between the clients and gunicorn; the client's address is
# what the outermost of them saw (config/client_ip.py). 0: X-Forwarded-For is ignored.
TRUSTED_PROXY_COUNT = read_int("TRUSTED_PROXY_COUNT", default=0, minimum=0)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_htmx",
    "axes",
    "crispy_forms",
    "crispy_bootstrap5",
    # Bootstrap's and htmx's own files, shipped in wheels and served by whitenoise (no CDN).
    "js_lib_bootstrap5",
    "js_lib_htmx",
    "csp",
    "accounts",
    "subsidy",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    # Serves /static/ (admin, Swagger UI from the sidecar) from gunicorn: no CDN, no extra server.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: what a signed-in user or the API receives is never cached.
    "config.headers.NoStoreMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Staff sessions end when idle or old; then staff pass their second factor (accounts/).
    "accounts.middleware.StaffSessionMiddleware",
    "accounts.middleware.SecondFactorMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # A database or Redis outage raised by a view: 503 with a sentence, not a 500.
    "config.unavailable.DependencyDownMiddleware",
    # Last, as django-axes asks: turns a locked-out log-in into the 429 page.
    "axes.middleware.AxesMiddleware",
]

# --- Headers every response carries (docs/security.md). Scripts and styles come only from our
# own static files: templates hold no inline script, event attribute or style attribute, and
# htmx is told not to inject its indicator style (templates/base.html). Bootstrap's form
# controls draw their arrows and ticks with data: SVG images. The case page frames document
# previews from this origin; nothing else may frame a page.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-src": [SELF],
        "frame-ancestors": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
    }
}
# Old browsers that know no frame-ancestors: only the document preview says SAMEORIGIN
# (subsidy/web/office.py `document`).
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# The site-visit page takes photos with the camera (<input capture>); a photo's place comes from
# its EXIF data, never from the browser's location. Everything else a page could ask for is off
# (passkeys keep their default, this origin only).
PERMISSIONS_POLICY = {
    "accelerometer": [],
    "autoplay": [],
    "bluetooth": [],
    "browsing-topics": [],
    "camera": ["self"],
    "display-capture": [],
    "encrypted-media": [],
    "geolocation": [],
    "gyroscope": [],
    "hid": [],
    "idle-detection": [],
    "interest-cohort": [],
    "local-fonts": [],
    "magnetometer": [],
    "microphone": [],
    "midi": [],
    "payment": [],
    "screen-wake-lock": [],
    "serial": [],
    "usb": [],
    "xr-spatial-tracking": [],
}

ROOT_URLCONF = "config.urls"
# JSON under /api/, Django's page (or templates/403_csrf.html) elsewhere.
CSRF_FAILURE_VIEW = "config.views.csrf_failure"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "subsidy.web.context.unread_notices",
            ],
        },
    },
]

# --- Database: SQLite file by default, PostgreSQL when DATABASE_URL says so.
DATABASES = {
    "default": read_database("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = read("DATABASE_CONN_MAX_AGE", env.int, default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # subsidy/engine/store.py writes a chunk in one UPDATE ... FROM ... RETURNING (3.35+).
    if sqlite3.sqlite_version_info < (3, 35):
        raise ImproperlyConfigured(
            f"DATABASE_URL: SQLite {sqlite3.sqlite_version} is too old; 3.35 or newer is needed, "
            "or set DATABASE_URL to a PostgreSQL database."
        )
    # Celery eager tasks and the dev server share the file: wait instead of failing on a lock.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
elif DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # No JIT compilation: a list query whose estimate passes jit_above_cost spent 390 ms of
    # its 640 compiling and 250 running (the 100,000-application search, docs/benchmarks.md
    # "Officers' pages"); this is short queries' work, never long analytics.
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c jit=off".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    # ASVS level 2 (V2.1.1): at least 12 characters.
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Indonesian cities, names and words with a year or 123 (accounts/data/).
    {"NAME": "accounts.passwords.IndonesianCommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Web log-in by username or e-mail address (the API's token log-in stays username only).
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"

# --- Lockout (django-axes): 5 failed log-ins for one username within 15 minutes lock that
# username, whatever the address, for 15 minutes from the last counted failure; the web
# log-in, the admin's and the API's token endpoint all count.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
# Refused attempts during a lockout do not extend it: it ends 15 minutes after the 5th failure.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "config.client_ip.client_ip"
AXES_USERNAME_CALLABLE = "accounts.lockout.lockout_username"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
# No start-up banner in every management command's output.
AXES_VERBOSE = False
# axes.W006 asks to lock on the address too; that would lock everyone behind one office NAT
# out of every account. Guessing from one address is the throttles' job (auth, allauth's
# login_failed rate limit), keyed on the trusted client address.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
LOGIN_REDIRECT_URL = "home"

# --- Accounts on the web (django-allauth): applicants register themselves, verify their
# e-mail before the first log-in, and an address belongs to one account.
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
# The adapter asks config/client_ip.py; this keeps allauth's own reading the same.
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
# Sign-up and password reset answer the same whether or not an address is known; the owner
# of a known address is told by e-mail instead.
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_FORMS = {"login": "accounts.forms.LoginForm"}
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = False
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Restrukturisasi Mesin IKM] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if SITE_URL.startswith("https:") else "http"
# --- Second factor (django-allauth's MFA): staff and superusers enrol before any staff page,
# admin page or API token works (accounts/middleware.py); applicants may. An authenticator app
# (TOTP) with recovery codes, or a security key / passkey (WebAuthn, which browsers allow on
# HTTPS and on localhost only). Passkeys are a second factor here, not a password-less log-in:
# every log-in passes the password form (and its lockout).
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = False
MFA_TOTP_ISSUER = "Restrukturisasi Mesin IKM"
# One 30-second step either side (RFC 6238 5.2): a phone's clock a little off still works.
MFA_TOTP_TOLERANCE = 1
# API tokens (accounts.ApiToken), in seconds: a staff token lasts a working day.
API_TOKEN_TTL_STAFF = read_int("API_TOKEN_TTL_STAFF", default=8 * 3600, minimum=60)
API_TOKEN_TTL_APPLICANT = read_int("API_TOKEN_TTL_APPLICANT", default=30 * 86400, minimum=60)
# Staff sessions (accounts/middleware.py StaffSessionMiddleware); applicants keep Django's
# default (SESSION_COOKIE_AGE, two weeks).
STAFF_SESSION_IDLE_SECONDS = read_int("STAFF_SESSION_IDLE_SECONDS", default=30 * 60, minimum=60)
STAFF_SESSION_MAX_SECONDS = read_int("STAFF_SESSION_MAX_SECONDS", default=8 * 3600, minimum=60)
SESSION_COOKIE_HTTPONLY = True
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Language and time: Indonesian first, English too; Asia/Jakarta.
LANGUAGE_CODE = "id"
LANGUAGES = [("id", _("Indonesian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Jakarta"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "static"

# Uploaded documents live outside any served folder: only the permission-checked
# download view reads them.
PRIVATE_MEDIA_ROOT = Path(
    read("PRIVATE_MEDIA_ROOT", env.str, default=str(BASE_DIR / "var" / "private"))
)
DOCUMENT_MAX_BYTES = read_int("DOCUMENT_MAX_MB", default=10, minimum=1) * 1024 * 1024
# Documents, site-visit photos and exports (subsidy/storage.py): that folder by default, or a
# private bucket of an S3-compatible store when DOCUMENTS_S3_BUCKET is set, shared by every
# web and worker process. Downloads stream through the permission-checked views, or with
# DOCUMENTS_S3_REDIRECT answer a redirect to a signed URL valid DOCUMENTS_S3_URL_SECONDS.
DOCUMENTS_S3_BUCKET = env.str("DOCUMENTS_S3_BUCKET", default="").strip()
DOCUMENTS_S3_ENDPOINT_URL = env.str("DOCUMENTS_S3_ENDPOINT_URL", default="").strip()
DOCUMENTS_S3_ACCESS_KEY_ID = env.str("DOCUMENTS_S3_ACCESS_KEY_ID", default="").strip()
DOCUMENTS_S3_SECRET_ACCESS_KEY = env.str("DOCUMENTS_S3_SECRET_ACCESS_KEY", default="").strip()
DOCUMENTS_S3_REGION = env.str("DOCUMENTS_S3_REGION", default="").strip()
DOCUMENTS_S3_REDIRECT = read_bool("DOCUMENTS_S3_REDIRECT", default=False)
DOCUMENTS_S3_URL_SECONDS = read_int("DOCUMENTS_S3_URL_SECONDS", default=60, minimum=1)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "documents": documents_storage(
        bucket=DOCUMENTS_S3_BUCKET,
        endpoint_url=DOCUMENTS_S3_ENDPOINT_URL,
        access_key=DOCUMENTS_S3_ACCESS_KEY_ID,
        secret_key=DOCUMENTS_S3_SECRET_ACCESS_KEY,
        region=DOCUMENTS_S3_REGION,
        url_seconds=DOCUMENTS_S3_URL_SECONDS,
    ),
}
# Pillow refuses an image of more pixels than this before decoding it (a decompression bomb);
# subsidy/apps.py sets it and makes Pillow's DecompressionBombWarning an error. 40 megapixels
# is twice a phone camera's largest photo.
MAX_IMAGE_PIXELS = read_int("MAX_IMAGE_PIXELS", default=40_000_000, minimum=1_000_000)
# A PDF's compressed streams, inflated to check their objects, may not grow past this in all.
PDF_INFLATE_MAX_BYTES = read_int("PDF_INFLATE_MAX_MB", default=64, minimum=1) * 1024 * 1024

# --- Malware scanning (subsidy/scanning.py): clamd's address, a Unix socket path
# (/var/run/clamav/clamd.ctl) or host:port (127.0.0.1:3310). Empty: scanning is off, uploads are
# usable at once and shown as "not scanned"; set: nothing is usable until found clean.
CLAMAV_ADDRESS = read("CLAMAV_ADDRESS", env.str, default="").strip()
# Seconds one scan may take on the socket (clamd's own limit is 120 s per file).
CLAMAV_TIMEOUT = read_int("CLAMAV_TIMEOUT", default=60, minimum=1)
# The first retry of a scan whose scanner did not answer waits this long, then doubling (to
# 10 minutes); beat queues again any scan still pending after SCAN_REQUEUE_MINUTES.
SCAN_RETRY_SECONDS = read_int("SCAN_RETRY_SECONDS", default=10, minimum=1)
SCAN_REQUEUE_MINUTES = read_int("SCAN_REQUEUE_MINUTES", default=10, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# --- Programme operations.
CASE_SLA_DAYS = read_int("CASE_SLA_DAYS", default=14, minimum=1)
# A notice claimed longer ago than this is taken to belong to a dead worker and is sent again;
# it must exceed the send task's hard time limit (90 s).
NOTICE_LEASE_SECONDS = read_int("NOTICE_LEASE_SECONDS", default=120, minimum=1)
# Background exports (subsidy/exports/jobs.py): a file is kept this many days, then deleted;
# a running export whose heartbeat is older than EXPORT_STALE_SECONDS belongs to a dead worker
# and is queued again, up to EXPORT_MAX_ATTEMPTS claims in all, then failed.
EXPORT_KEEP_DAYS = 7
EXPORT_STALE_SECONDS = read_int("EXPORT_STALE_SECONDS", default=300, minimum=1)
EXPORT_MAX_ATTEMPTS = 3
# An export's time limits (subsidy/tasks.py run_export): the longest task there is.
EXPORT_SOFT_TIME_LIMIT = 3600
EXPORT_TIME_LIMIT = 3700
# Refund computations (subsidy/engine/stale.py): a programme's recompute runs as jobs of this
# many applications each, so a killed worker costs one of them; an application whose results
# are still stale this long after its computation was queued (a lost message, a broker that
# was down, a killed worker) is queued again by the beat job requeue_stale_computations.
RECOMPUTE_CHUNK_SIZE = read_int("RECOMPUTE_CHUNK_SIZE", default=500, minimum=1)
COMPUTE_REQUEUE_SECONDS = read_int("COMPUTE_REQUEUE_SECONDS", default=180, minimum=1)
# Key of the audit trail's HMAC chain; never stored in the database.
AUDIT_HMAC_KEY = env.str("AUDIT_HMAC_KEY", default="")
# Where the beat job appends the chain head every day (one file per day), outside the
# database; verify_audit_trail checks against the latest. Only the beat/worker role writes it.
AUDIT_ANCHOR_DIR = Path(
    read("AUDIT_ANCHOR_DIR", env.str, default=str(BASE_DIR / "var" / "audit-anchors"))
)

# --- Redis: broker and cache when REDIS_URL is set; eager tasks and local memory otherwise.
REDIS_URL = read_redis_url("REDIS_URL")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
    # Redis down costs the cache, never the request: short socket timeouts, and an error is a
    # miss (config/cache.py), so throttles and allauth's rate limits let requests through.
    CACHES = {
        "default": {
            "BACKEND": "config.cache.DegradingRedisCache",
            "LOCATION": REDIS_URL,
            "TIMEOUT": 300,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = "cache+memory://"
    CELERY_TASK_ALWAYS_EAGER = True
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = read_int("CELERY_TASK_SOFT_TIME_LIMIT", default=300, minimum=1)
CELERY_TASK_TIME_LIMIT = read_int("CELERY_TASK_TIME_LIMIT", default=360, minimum=1)
if CELERY_TASK_TIME_LIMIT <= CELERY_TASK_SOFT_TIME_LIMIT:
    raise ImproperlyConfigured(
        "CELERY_TASK_TIME_LIMIT must be above CELERY_TASK_SOFT_TIME_LIMIT "
        "(the soft limit lets a task clean up before the hard one kills it)."
    )
CELERY_RESULT_EXPIRES = 3600
# Nothing reads a task's result: the database records what a job did. Kept, each queueing from
# a request would also subscribe to the result backend, and with Redis down raise after its
# reconnection retries even though the message itself was never the problem.
CELERY_TASK_IGNORE_RESULT = True
# Broker down: queueing after commit gives up at once when Redis refuses, within seconds when
# it is frozen (subsidy/jobs.py logs it and the beat jobs queue the work again), rather than
# holding the request for Celery's default retries.
CELERY_BROKER_CONNECTION_TIMEOUT = 1.0
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    # One retry, at once: a pooled connection a Redis restart broke is replaced rather than
    # the job left to the beat. A frozen Redis costs both tries' socket timeouts (about 6 s),
    # then subsidy/jobs.py leaves the broker alone for 10 s.
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
# Redis hands an unacknowledged message (late acks) to another worker after the visibility
# timeout: below a task's hard time limit, a task still running would be run twice at once;
# unset, a killed worker's message waits an hour. Above the longest limit, with the beat jobs
# (sweep_exports, requeue_stale_computations, requeue_stuck_notices) finding what a dead
# worker left long before.
CELERY_VISIBILITY_TIMEOUT = read_int(
    "CELERY_VISIBILITY_TIMEOUT", default=EXPORT_TIME_LIMIT + 300, minimum=1
)
_LONGEST_TIME_LIMIT = max(CELERY_TASK_TIME_LIMIT, EXPORT_TIME_LIMIT)
if CELERY_VISIBILITY_TIMEOUT <= _LONGEST_TIME_LIMIT:
    raise ImproperlyConfigured(
        f"CELERY_VISIBILITY_TIMEOUT={CELERY_VISIBILITY_TIMEOUT} must be above the longest "
        f"task's hard time limit ({_LONGEST_TIME_LIMIT} s): Redis would hand a running task to "
        "a second worker."
    )
# A frozen Redis (accepting connections, never answering) would hold a publish for ever: the
# socket timeout bounds it, above the worker's 1 s BRPOP polls.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "socket_connect_timeout": 1.0,
    "socket_timeout": 2.0,
}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 1.0
# Celery's Django fix-up closes the database connection after every task unless told to
# reuse it: 8 ms of reconnecting per notice (docs/benchmarks.md, "Notices on Celery").
CELERY_DB_REUSE_MAX = read_int("CELERY_DB_REUSE_MAX", default=1000, minimum=0)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    # /healthz reports the workers "late" when this stops arriving (config/health.py).
    "worker-heartbeat": {
        "task": "config.heartbeat",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "requeue-stuck-notices": {
        "task": "subsidy.tasks.requeue_stuck_notices",
        "schedule": 300.0,
    },
    # Uploads whose scan was lost (a dead worker, retries used up) are scanned again.
    "requeue-pending-scans": {
        "task": "subsidy.tasks.requeue_pending_scans",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
    # Computations left stale (a lost message, a broker that was down, a killed worker).
    "requeue-stale-computations": {
        "task": "subsidy.tasks.requeue_stale_computations",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "sweep-exports": {
        "task": "subsidy.tasks.sweep_exports",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "delete-expired-exports": {
        "task": "subsidy.tasks.delete_expired_exports",
        "schedule": crontab(minute=15),
    },
    "daily-sla-digest": {
        "task": "subsidy.tasks.send_sla_digests",
        "schedule": crontab(hour=7, minute=0),
    },
    "draft-deadline-reminders": {
        "task": "subsidy.tasks.send_draft_reminders",
        "schedule": crontab(hour=8, minute=0),
    },
    # The audit chain's head, copied outside the database hourly and mailed to the auditors.
    "audit-anchor": {
        "task": "subsidy.tasks.anchor_audit_trail",
        "schedule": crontab(minute=5),
    },
    "audit-anchor-mail": {
        "task": "subsidy.tasks.mail_audit_anchor",
        "schedule": crontab(hour=6, minute=30),
    },
}

# --- E-mail: console unless EMAIL_URL names an SMTP server.
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
if env.str("EMAIL_URL", default=""):
    globals().update(
        read("EMAIL_URL", env.email_url, help_text="Use e.g. smtp://host:25 or consolemail://.")
    )
DEFAULT_FROM_EMAIL = read(
    "DEFAULT_FROM_EMAIL", env.str, default="Restrukturisasi Mesin IKM <noreply@localhost>"
)
EMAIL_TIMEOUT = 30

# --- REST API.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.LanguageTokenAuthentication",
        "accounts.authentication.LanguageSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "config.api.Pagination",
    # JSON in refusing what would crash later (deep nesting, lone surrogates); timestamps
    # out in Asia/Jakarta.
    # JSON only (uploads name their multipart parser): a form body has no "not an object".
    "DEFAULT_PARSER_CLASSES": ["config.json_io.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "config.json_io.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "config.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "auth": read_rate("THROTTLE_AUTH", default="20/min"),
        "register": read_rate("THROTTLE_REGISTER", default="10/hour"),
        "upload": read_rate("THROTTLE_UPLOAD", default="60/hour"),
        "eligibility": read_rate("THROTTLE_ELIGIBILITY", default="60/min"),
        "statistics": read_rate("THROTTLE_STATISTICS", default="120/min"),
    },
    "PAGE_SIZE": 20,
    # For any throttle that keeps DRF's own get_ident; ours call config/client_ip.py.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Restrukturisasi Mesin IKM API",
    "DESCRIPTION": "REST API of the IKM machine-restructuring subsidy programme.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.openapi.masked_account_numbers",
    ],
    "ENUM_NAME_OVERRIDES": {
        "DocumentKindEnum": "subsidy.models.DocumentKind",
        "NoticeKindEnum": "subsidy.models.Notice.Kind",
        "ApplicationStatusEnum": "subsidy.models.Application.Status",
        "ApplicationScaleEnum": "subsidy.models.Scale",
        "ExportKindEnum": "subsidy.models.Export.Kind",
        "ExportStatusEnum": "subsidy.models.Export.Status",
        # A checklist item that recommending requires: true, the only value.
        "CheckedEnum": [(True, True)],
    },
}

# Loggers whose DEBUG lines carry the data itself (NPWP, account numbers): SQL with its
# parameters, and a template's whole context when a variable does not resolve. They stay at
# INFO whatever LOG_LEVEL says (tests/test_log_scan.py).
DATA_LOGGERS = {"django.db.backends": {"level": "INFO"}, "django.template": {"level": "INFO"}}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": read_log_level("LOG_LEVEL", default="INFO")},
    "loggers": DATA_LOGGERS,
}

DEMO_USERS_ALLOWED = False
REQUIRE_SERVICES = read_bool("REQUIRE_SERVICES", default=False)
