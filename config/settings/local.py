"""Local development: the embedded default that `make run` uses."""

from .base import *  # noqa: F403
from .base import SECRET_KEY, env
from .env import read_bool

DEBUG = read_bool("DJANGO_DEBUG", default=True)
# A fixed key is fine here: this settings module never serves the public.
SECRET_KEY = SECRET_KEY or "local-only-insecure-key-do-not-use-in-production"
AUDIT_HMAC_KEY = env.str("AUDIT_HMAC_KEY", default="local-only-audit-key")
DEMO_USERS_ALLOWED = True
# WebAuthn on the development server's plain http://127.0.0.1:8000.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True
