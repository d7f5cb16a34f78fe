"""The refusals a service can give; the API turns each code into the contract's HTTP status."""

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from rest_framework import exceptions

STATUS_BY_CODE = {
    "invalid": 400,
    "not_authenticated": 401,
    "forbidden": 403,
    "csrf_failed": 403,
    "mfa_required": 403,
    "four_eyes": 403,
    "document_being_checked": 403,
    "conflict_of_interest": 403,
    "not_found": 404,
    "invalid_transition": 409,
    "budget_exhausted": 409,
    "not_eligible": 409,
    "stale_computation": 409,
    "window_closed": 409,
    "incomplete": 409,
    "documents_being_checked": 409,
    "duplicate_application": 409,
    "export_not_ready": 409,
    "export_expired": 410,
    "throttled": 429,
    "locked_out": 429,
    "unavailable": 503,
}


class ServiceError(Exception):
    """A refusal with the contract's machine code, a translated sentence and optional extras."""

    def __init__(self, code: str, detail: str | Promise, **extra: object) -> None:
        if code not in STATUS_BY_CODE:
            raise ValueError(f"Unknown error code {code!r}")
        super().__init__(str(detail))
        self.code = code
        self.detail = detail
        self.extra = extra

    @property
    def status(self) -> int:
        return STATUS_BY_CODE[self.code]

    def as_dict(self) -> dict:
        return {"code": self.code, "detail": str(self.detail), **self.extra}


class CsrfFailed(exceptions.PermissionDenied):
    """A session-authenticated write without a valid CSRF token (not a matter of role)."""

    default_code = "csrf_failed"


class MfaRequired(exceptions.PermissionDenied):
    """Staff without a second factor (or without a valid code for a token): 403 mfa_required."""

    default_code = "mfa_required"


def csrf_failed_detail() -> str:
    return _(
        "The CSRF check failed: a request signed in with a session cookie must send the "
        "CSRF token (the X-CSRFToken header). Reload the page and try again."
    )
