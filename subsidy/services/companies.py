"""Writes to companies: registration, changes, members."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.roles import APPLICANT
from config.errors import ServiceError
from subsidy import audit, validators
from subsidy.engine import stale
from subsidy.models import (
    Application,
    Company,
)
from subsidy.services.inputs import _full_clean, _whole_number_errors
from subsidy.services.permissions import require_member

User = get_user_model()


COMPANY_FIELDS = [
    "name",
    "nib",
    "npwp",
    "kbli",
    "workers",
    "investment_value",
    "province",
    "regency",
    "address",
    "bank_name",
    "bank_account_number",
    "bank_account_name",
]


COMPANY_COMPUTED_FIELDS = {"workers", "investment_value", "kbli"}


COMPANY_WHOLE_NUMBERS = ("workers", "investment_value")


def _company_clean_input(fields: dict) -> dict:
    data = {k: v for k, v in fields.items() if k in COMPANY_FIELDS}
    if "npwp" in data:
        data["npwp"] = validators.digits(data["npwp"] or "")
    if "nib" in data and not data["nib"]:
        data["nib"] = None
    return data


def _company_save(company: Company, errors: dict) -> None:
    _full_clean(company, errors, exclude=["members"])
    try:
        with transaction.atomic():
            company.save()
    except IntegrityError:
        raise ValidationError(
            {"nib": [_("A company with this NIB is already registered.")]}
        ) from None


@transaction.atomic
def company_create(*, by: User, **fields: object) -> Company:
    """An applicant registers a company and becomes its first member."""
    if not by.has_role(APPLICANT):
        raise ServiceError("forbidden", _("Only applicants register companies."))
    data = _company_clean_input(fields)
    company = Company(**data)
    if company.nib and Company.objects.filter(nib=company.nib).exists():
        raise ValidationError(
            {"nib": [_("A company with this NIB is already registered: ask a member to add you.")]}
        )
    _company_save(company, _whole_number_errors(data, COMPANY_WHOLE_NUMBERS))
    company.members.add(by)
    audit.record(
        actor=by,
        action="create",
        object_type="company",
        object_id=company.pk,
        changes=audit.diff({}, audit.snapshot(company, COMPANY_FIELDS)),
    )
    return company


@transaction.atomic
def company_update(*, company: Company, by: User, **fields: object) -> Company:
    require_member(company, by)
    company = Company.objects.select_for_update().get(pk=company.pk)
    before = audit.snapshot(company, COMPANY_FIELDS)
    data = _company_clean_input(fields)
    for name, value in data.items():
        setattr(company, name, value)
    _company_save(company, _whole_number_errors(data, COMPANY_WHOLE_NUMBERS))
    changes = audit.diff(before, audit.snapshot(company, COMPANY_FIELDS))
    if changes:
        if COMPANY_COMPUTED_FIELDS & changes.keys():
            # Submitted applications use their snapshot; only editable ones follow the company.
            stale.mark_stale(
                company.applications.filter(status__in=Application.EDITABLE_STATUSES).values_list(
                    "pk", flat=True
                )
            )
        audit.record(
            actor=by,
            action="update",
            object_type="company",
            object_id=company.pk,
            changes=changes,
        )
    return company


@transaction.atomic
def company_add_member(*, company: Company, by: User, username: str) -> User:
    require_member(company, by)
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None or not user.has_role(APPLICANT):
        raise ValidationError({"username": [_("No applicant account has this username.")]})
    if company.members.filter(pk=user.pk).exists():
        raise ValidationError({"username": [_("This user is already a member of the company.")]})
    company.members.add(user)
    audit.record(
        actor=by,
        action="add_member",
        object_type="company",
        object_id=company.pk,
        changes={"members": [None, user.username]},
    )
    return user
