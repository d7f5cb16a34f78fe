"""Who may see what: staff roles and superusers every company and application, drafts
included; anyone else only the companies they belong to and those companies' applications.

The one place this rule lives: the API, the pages, the exports and the services all ask here,
and what a user may not see answers 404 (DOMAIN.md, "Roles").
"""

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from config.errors import ServiceError
from subsidy.models import Application, Company


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
