"""Every write to user accounts and their API tokens."""

import datetime as dt
from dataclasses import dataclass

from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress
from allauth.core import ratelimit
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from subsidy import audit

from .models import ApiToken
from .roles import APPLICANT, grant_role
from .tokens import new_token_secret, token_hash, token_prefix

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


def credentials_refused_message() -> str:
    """The one answer to a refused log-in, web page or token: a wrong username or password and
    an account still waiting for its address to be verified read the same, so that signing up
    with someone's address and then logging in never tells whether the address was taken."""
    return _(
        "The username or password is wrong, or the account's e-mail address is not verified "
        "yet: follow the link in the e-mail we sent."
    )


def awaits_email_verification(user: User) -> bool:
    """A self-registered account whose address is not verified yet: it may not log in, on the
    web or for a token. Accounts made by an administrator hold no unverified address row."""
    if settings.ACCOUNT_EMAIL_VERIFICATION != "mandatory":
        return False
    verified = list(EmailAddress.objects.filter(user=user).values_list("verified", flat=True))
    return bool(verified) and not any(verified)


def resend_verification(*, user: User, request: HttpRequest) -> None:
    """Another verification link to an account that tried to log in unverified, at most as
    often as allauth's own "confirm_email" rate allows for that address."""
    address = EmailAddress.objects.filter(user=user, primary=True).first()
    if address is None or address.verified:
        return
    if ratelimit.consume(request, action="confirm_email", key=address.email.lower()):
        address.send_confirmation(request)


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


@dataclass(frozen=True)
class IssuedToken:
    """A token just made: the secret exists only here, never in the database."""

    token: ApiToken
    secret: str


def _token_lifetime(user: User) -> dt.timedelta:
    seconds = (
        settings.API_TOKEN_TTL_STAFF
        if user.needs_second_factor
        else settings.API_TOKEN_TTL_APPLICANT
    )
    return dt.timedelta(seconds=seconds)


@transaction.atomic
def api_token_create(*, user: User, session_key: str = "") -> IssuedToken:
    """A new API token for ``user``; staff's lasts API_TOKEN_TTL_STAFF, others' the applicant's."""
    secret = new_token_secret()
    now = timezone.now()
    token = ApiToken(
        user=user,
        prefix=token_prefix(secret),
        key_hash=token_hash(secret),
        created=now,
        expires=now + _token_lifetime(user),
        session_key=session_key or "",
    )
    token.full_clean()
    token.save(force_insert=True)
    return IssuedToken(token=token, secret=secret)


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    """End one token (again is no error: it stays revoked from the first time)."""
    if token.revoked is None:
        token.revoked = timezone.now()
        ApiToken.objects.filter(pk=token.pk, revoked__isnull=True).update(revoked=token.revoked)
    return token


def api_tokens_revoke_for_session(*, session_key: str) -> int:
    """Logging out of a session ends the tokens it made."""
    if not session_key:
        return 0
    return ApiToken.objects.filter(session_key=session_key, revoked__isnull=True).update(
        revoked=timezone.now()
    )


@transaction.atomic
def second_factor_reset(*, user: User, by: User) -> int:
    """A superuser removes a user's second factor (a lost phone): authenticators and recovery
    codes go, with the user's API tokens; the user enrols again at the next log-in.
    Returns how many authenticators were removed."""
    if not by.is_superuser:
        raise PermissionDenied
    deleted, _per_model = Authenticator.objects.filter(user=user).delete()
    ApiToken.objects.filter(user=user, revoked__isnull=True).update(revoked=timezone.now())
    audit.record(
        actor=by,
        action="second_factor_reset",
        object_type="user",
        object_id=user.pk,
        changes={"authenticators_removed": deleted},
    )
    return deleted
