"""Writes to companies: registration, changes, members by invitation."""

import datetime as dt
import hashlib
import logging
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import APPLICANT
from config.errors import ServiceError
from subsidy import audit, validators
from subsidy.access import is_member, not_found
from subsidy.engine import stale
from subsidy.models import (
    Application,
    Company,
    CompanyInvitation,
)
from subsidy.services.inputs import _full_clean, _whole_number_errors
from subsidy.services.permissions import require_member

User = get_user_model()
logger = logging.getLogger(__name__)


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


def invitation_sent() -> str:
    """The one answer to an invitation, whether or not an account has the address."""
    return _(
        "An invitation has been sent to that address. It works for %(days)s days; the person "
        "logs in or registers, then accepts it."
    ) % {"days": CompanyInvitation.VALID_DAYS}


def invitation_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_url(token: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}/invitations/{token}/"


def _send_invitation(invitation: CompanyInvitation, token: str, by: User) -> None:
    context = {
        "company": invitation.company.name,
        "inviter": by.get_full_name() or by.username,
        "url": invitation_url(token),
        "expires_at": timezone.localtime(invitation.expires_at).date(),
    }
    subject = _("Invitation to join %(company)s") % context
    body = render_to_string("applicant/members_invitation_email.txt", context)
    subject = " ".join(subject.split())

    def send() -> None:
        # After commit the invitation is stored and the request has succeeded: a mail server
        # that fails must not turn that into a 500. The raw token lives only in this message
        # (never in the broker), so it is not retried; inviting again sends a new link.
        try:
            send_mail(subject, body, None, [invitation.email])
        except Exception:
            logger.exception("invitation %s: the e-mail could not be sent", invitation.pk)

    transaction.on_commit(send)


@transaction.atomic
def company_invite_member(*, company: Company, by: User, email: str) -> CompanyInvitation:
    """A member invites someone by e-mail; the answer never says whether they have an account."""
    require_member(company, by)
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": [_("Enter a valid e-mail address.")]}) from None
    # Lock the company: two invitations to one address at once leave one pending.
    Company.objects.select_for_update().filter(pk=company.pk).first()
    CompanyInvitation.objects.filter(
        company=company, email=email, accepted_at__isnull=True, revoked=False
    ).update(revoked=True)
    token = secrets.token_urlsafe(32)
    invitation = CompanyInvitation(
        company=company,
        email=email,
        invited_by=by,
        token_hash=invitation_token_hash(token),
        expires_at=timezone.now() + dt.timedelta(days=CompanyInvitation.VALID_DAYS),
    )
    invitation.full_clean()
    invitation.save()
    _send_invitation(invitation, token, by)
    audit.record(
        actor=by,
        action="invite_member",
        object_type="company",
        object_id=company.pk,
        changes={"invitation": [None, invitation.pk], "email": [None, email]},
    )
    return invitation


def invitation_for_token(token: str) -> CompanyInvitation:
    """The invitation a link opens, whatever its state; an unknown link is not found."""
    invitation = (
        CompanyInvitation.objects.select_related("company")
        .filter(token_hash=invitation_token_hash(token or ""))
        .first()
    )
    if invitation is None:
        raise ServiceError("not_found", _("This invitation link is not valid."))
    return invitation


def invitation_refusal(invitation: CompanyInvitation) -> ServiceError | None:
    """Why a link no longer opens the company, or None while it does."""
    if invitation.revoked:
        return ServiceError(
            "invalid_transition",
            _("This invitation has been replaced or withdrawn. Ask a member for a new one."),
        )
    if invitation.accepted_at is not None:
        return ServiceError("invalid_transition", _("This invitation has already been used."))
    if invitation.expires_at <= timezone.now():
        return ServiceError(
            "invalid_transition",
            _("This invitation has expired. Ask a member of the company to invite you again."),
        )
    return None


@transaction.atomic
def invitation_accept(*, token: str, by: User) -> CompanyInvitation:
    """An applicant holding the link joins the company; the link then works no more."""
    found = invitation_for_token(token)
    if not by.has_role(APPLICANT):
        raise ServiceError("forbidden", _("Only applicants may join a company."))
    # The row lock makes a link used twice at once join only once.
    invitation = CompanyInvitation.objects.select_for_update().get(pk=found.pk)
    refusal = invitation_refusal(invitation)
    if refusal is not None:
        raise refusal
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = by
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    found.company.members.add(by)
    audit.record(
        actor=by,
        action="accept_invitation",
        object_type="company",
        object_id=invitation.company_id,
        changes={"invitation": [None, invitation.pk], "members": [None, by.username]},
    )
    invitation.company = found.company
    return invitation


@transaction.atomic
def company_remove_member(*, company: Company, by: User, user: User) -> None:
    """A member removes another member, or leaves; the last member stays."""
    require_member(company, by)
    # Locked: two members removing each other at once must not leave the company empty.
    company = Company.objects.select_for_update().get(pk=company.pk)
    if not is_member(company, user):
        raise not_found()
    if company.members.count() <= 1:
        raise ServiceError(
            "invalid_transition",
            _("A company keeps at least one member: the last member cannot be removed."),
        )
    company.members.remove(user)
    audit.record(
        actor=by,
        action="remove_member",
        object_type="company",
        object_id=company.pk,
        changes={"members": [user.username, None]},
    )
