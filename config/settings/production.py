"""Production: every secret from the environment, no DEBUG, secure cookies and HSTS."""

import re

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import (
    AUDIT_HMAC_KEY,
    DATABASES,
    DOCUMENTS_S3_ACCESS_KEY_ID,
    DOCUMENTS_S3_BUCKET,
    DOCUMENTS_S3_SECRET_ACCESS_KEY,
    REST_FRAMEWORK,
    SECRET_KEY,
    SILENCED_SYSTEM_CHECKS,
    STORAGES,
    env,
    read,
    read_bool,
)

if read_bool("DJANGO_DEBUG", default=False):
    raise ImproperlyConfigured("DJANGO_DEBUG must not be on in production.")
DEBUG = False
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set in production (50 or more random characters)."
    )
if len(AUDIT_HMAC_KEY) < 32:
    raise ImproperlyConfigured(
        "AUDIT_HMAC_KEY must be set in production (32 or more random characters)."
    )
ALLOWED_HOSTS = [h for h in read("DJANGO_ALLOWED_HOSTS", env.list) if h]
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must name the host(s) in production.")
if not env.str("EMAIL_URL", default=""):
    raise ImproperlyConfigured("EMAIL_URL must name the SMTP server in production.")
# Links in e-mails and notices point here; a default of 127.0.0.1 would reach nobody.
SITE_URL = env.str("SITE_URL", default="").strip().rstrip("/")
if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", SITE_URL):
    raise ImproperlyConfigured(
        "SITE_URL must be set in production to the site's public address "
        "(e.g. https://ikm.example.go.id)."
    )

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# A bucket named without its keys would fall back to whatever credentials the machine has.
if DOCUMENTS_S3_BUCKET and not (DOCUMENTS_S3_ACCESS_KEY_ID and DOCUMENTS_S3_SECRET_ACCESS_KEY):
    raise ImproperlyConfigured(
        "DOCUMENTS_S3_BUCKET is set: DOCUMENTS_S3_ACCESS_KEY_ID and "
        "DOCUMENTS_S3_SECRET_ACCESS_KEY must be set too."
    )
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = read_bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = read("DJANGO_SECURE_HSTS_SECONDS", env.int, default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# Preloading binds the whole domain to https in every browser for months and cannot be taken
# back quickly: a ministry domain opts in deliberately.
SECURE_HSTS_PRELOAD = read_bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
if not SECURE_HSTS_PRELOAD:
    # check --deploy asks for preloading (security.W021); off is this deployment's choice.
    SILENCED_SYSTEM_CHECKS = [*SILENCED_SYSTEM_CHECKS, "security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# JSON only: the browsable API would render forms and every answer as HTML pages.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_RENDERER_CLASSES": ["config.json_io.JSONRenderer"],
}

if not env.str("DATABASE_URL", default="") or not DATABASES["default"]["ENGINE"].endswith(
    "postgresql"
):
    raise ImproperlyConfigured("DATABASE_URL must name the PostgreSQL database in production.")
if not env.str("REDIS_URL", default=""):
    raise ImproperlyConfigured("REDIS_URL must name the Redis broker in production.")
