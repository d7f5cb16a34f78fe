"""Every write to user accounts."""

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from .roles import APPLICANT, grant_role

User = get_user_model()


@transaction.atomic
def user_register_applicant(*, username: str, email: str, password: str) -> User:
    """Self-registration: always and only the applicant role."""
    user = User(username=username, email=email)
    validate_password(password, user=user)
    user.set_password(password)
    user.full_clean()
    user.save()
    grant_role(user, APPLICANT)
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
        user.email = email
        fields.append("email")
    if language is not None:
        user.language = language
        fields.append("language")
    if fields:
        user.full_clean(exclude=["password"])
        user.save(update_fields=fields)
    return user
