"""Every write to user accounts."""

from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from .roles import APPLICANT, grant_role

User = get_user_model()


def _require_unused_email(email: str, *, user: User | None = None) -> None:
    """An e-mail address belongs to one account (the web sign-up enforces the same)."""
    if not email:
        return
    others = User.objects.filter(email__iexact=email.strip())
    if user is not None and user.pk:
        others = others.exclude(pk=user.pk)
    if others.exists():
        raise ValidationError(
            {
                "email": [
                    _(
                        "This e-mail address cannot be used for a new account. If it is yours, "
                        "log in or reset your password."
                    )
                ]
            }
        )


def user_register_applicant(
    *, username: str, email: str, password: str, request: HttpRequest
) -> User | None:
    """Self-registration: always and only the applicant role; the address must be verified.

    An address another account holds creates nothing and is answered as a new one: its owner
    is told by e-mail instead (as the web sign-up does, ACCOUNT_PREVENT_ENUMERATION), so the
    answer never tells whether an account exists. None then. The e-mail goes after the
    commit: a slow mail server holds no lock.
    """
    user = User(username=username, email=email)
    validate_password(password, user=user)
    adapter = get_adapter(request)
    if User.objects.filter(email__iexact=email.strip()).exists():
        adapter.send_account_already_exists_mail(email)
        return None
    with transaction.atomic():
        user.set_password(password)
        user.full_clean()
        user.save()
        grant_role(user, APPLICANT)
        address = EmailAddress.objects.create(user=user, email=email, primary=True, verified=False)
    address.send_confirmation(request, signup=True)
    return user


@transaction.atomic
def user_create_with_roles(
    *, username: str, email: str, password: str, roles: list[str], language: str = "id"
) -> User:
    """Create a user holding ``roles`` (staff accounts are made this way, never self-registered)."""
    user = User(username=username, email=email, language=language)
    validate_password(password, user=user)
    user.set_password(password)
    user.full_clean()
    user.save()
    for role in roles:
        grant_role(user, role)
    return user


@transaction.atomic
def user_update_profile(
    *, user: User, email: str | None = None, language: str | None = None
) -> User:
    fields = []
    if email is not None:
        _require_unused_email(email, user=user)
        user.email = email
        fields.append("email")
    if language is not None:
        user.language = language
        fields.append("language")
    if fields:
        user.full_clean(exclude=["password"])
        user.save(update_fields=fields)
    return user
