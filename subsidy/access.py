"""Who may see what: staff roles and superusers every company and application, drafts
included; anyone else only the companies they belong to and those companies' applications.

The one place this rule lives: the API, the pages, the exports and the services all ask here,
and what a user may not see answers 404 (DOMAIN.md, "Roles").
"""

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from accounts.roles import AUDITOR, FINANCE
from config.errors import ServiceError
from subsidy import formats
from subsidy.models import Application, Company

# The keys under which a bank account number travels: the company, its submitted snapshot
# (and the trail's record of both), the finance batch.
BANK_ACCOUNT_KEYS = frozenset({"bank_account_number", "payout_account_number", "account_number"})


def not_found() -> ServiceError:
    return ServiceError("not_found", _("Not found."))


def sees_everything(user: object) -> bool:
    """Staff roles and superusers read every company and application, drafts included."""
    return bool(user.is_superuser or user.is_programme_staff)


def is_member(company: Company, user: object) -> bool:
    return company.members.filter(pk=user.pk).exists()


def can_see_company(company: Company, user: object) -> bool:
    return sees_everything(user) or is_member(company, user)


def can_see_application(application: Application, user: object) -> bool:
    return can_see_company(application.company, user)


def companies_visible_to(user: object) -> QuerySet[Company]:
    companies = Company.objects.all()
    if sees_everything(user):
        return companies
    return companies.filter(members=user)


def applications_visible_to(user: object) -> QuerySet[Application]:
    applications = Application.objects.all()
    if sees_everything(user):
        return applications
    return applications.filter(company__members=user)


def sees_bank_accounts_whole(user: object) -> bool:
    """Finance (who pays), auditors and superusers see bank account numbers whole; the other
    staff (verifier, approver) only the last four digits. Anyone else sees only their own
    companies (companies_visible_to), so their own numbers, whole."""
    if user.is_superuser or user.has_role(FINANCE) or user.has_role(AUDITOR):
        return True
    return not user.is_programme_staff


def bank_account_number(value: str | None, user: object | None) -> str:
    """An account number as `user` may see it: whole or masked (sees_bank_accounts_whole);
    masked when no user is known."""
    if user is not None and sees_bank_accounts_whole(user):
        return value or ""
    return formats.masked_account_number(value)


def redact_bank_accounts(data: object, user: object) -> object:
    """`data` (dicts and lists, e.g. a history entry's changes) with every account number
    masked for a user who may not see it whole."""
    if sees_bank_accounts_whole(user):
        return data
    return _redacted(data)


def _redacted(data: object) -> object:
    if isinstance(data, dict):
        return {
            key: (_masked(value) if key in BANK_ACCOUNT_KEYS else _redacted(value))
            for key, value in data.items()
        }
    if isinstance(data, list):
        return [_redacted(value) for value in data]
    return data


def _masked(value: object) -> object:
    """A number, or an audit change's [before, after] pair of numbers, masked."""
    if isinstance(value, list):
        return [_masked(v) for v in value]
    if isinstance(value, str):
        return formats.masked_account_number(value)
    return value
