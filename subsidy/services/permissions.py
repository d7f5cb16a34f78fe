"""Who may write: administrators for programmes, applicants of the company for its data."""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from accounts.roles import APPLICANT
from config.errors import ServiceError
from subsidy.access import can_see_company, is_member, not_found
from subsidy.models import (
    Application,
    Company,
)

User = get_user_model()


def require_superuser(by: User) -> None:
    if not by.is_superuser:
        raise ServiceError("forbidden", _("Only an administrator may change programmes."))


def require_member(company: Company, by: User) -> None:
    """Applicant of the company: others who can see it get 403, the rest 404 (API.md order)."""
    if by.has_role(APPLICANT) and is_member(company, by):
        return
    if can_see_company(company, by):
        raise ServiceError("forbidden", _("Only an applicant of the company may change its data."))
    raise not_found()


def require_editable(application: Application) -> None:
    if not application.is_editable:
        raise ServiceError(
            "invalid_transition",
            _("The application can be changed only while it is a draft or awaiting revision."),
            status=application.status,
        )
