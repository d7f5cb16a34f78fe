"""Settings shared by every environment; everything that differs is read from the environment."""

import sqlite3
from pathlib import Path

from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

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

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "django_htmx",
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
    "django_htmx.middleware.HtmxMiddleware",
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
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    # Web log-in by username or e-mail address (the API's token log-in stays username only).
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

# --- Accounts on the web (django-allauth): applicants register themselves, verify their
# e-mail before the first log-in, and an address belongs to one account.
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
# Sign-up and password reset answer the same whether or not an address is known; the owner
# of a known address is told by e-mail instead.
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = False
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Restrukturisasi Mesin IKM] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if SITE_URL.startswith("https:") else "http"
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
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# --- Programme operations.
CASE_SLA_DAYS = read_int("CASE_SLA_DAYS", default=14, minimum=1)
# A notice claimed longer ago than this is taken to belong to a dead worker and is sent again;
# it must exceed the send task's hard time limit (90 s).
NOTICE_LEASE_SECONDS = read_int("NOTICE_LEASE_SECONDS", default=120, minimum=1)
# Key of the audit trail's HMAC chain; never stored in the database.
AUDIT_HMAC_KEY = env.str("AUDIT_HMAC_KEY", default="")

# --- Redis: broker and cache when REDIS_URL is set; eager tasks and local memory otherwise.
REDIS_URL = read_redis_url("REDIS_URL")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "TIMEOUT": 300,
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
    "daily-sla-digest": {
        "task": "subsidy.tasks.send_sla_digests",
        "schedule": crontab(hour=7, minute=0),
    },
    "draft-deadline-reminders": {
        "task": "subsidy.tasks.send_draft_reminders",
        "schedule": crontab(hour=8, minute=0),
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
    },
    "PAGE_SIZE": 20,
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
