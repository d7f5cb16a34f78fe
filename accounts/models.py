from functools import cached_property

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .roles import ROLES, STAFF_ROLES


class User(AbstractUser):
    class Language(models.TextChoices):
        INDONESIAN = "id", "Bahasa Indonesia"
        ENGLISH = "en", "English"

    language = models.CharField(
        _("language"),
        max_length=2,
        choices=Language.choices,
        default=Language.INDONESIAN,
        help_text=_("Language of pages, e-mails and error messages for this user."),
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    def save(self, *args: object, **kwargs: object) -> None:
        # set_password() leaves the new password in _password until the save; every path that
        # changes it (allauth's change and reset pages, the admin, a management command) ends
        # here, and a changed password ends every API token the old one could have made.
        password_changed = self._password is not None and self.pk is not None
        super().save(*args, **kwargs)
        if password_changed:
            ApiToken.objects.filter(user=self, revoked__isnull=True).update(revoked=timezone.now())

    @cached_property
    def role_names(self) -> frozenset[str]:
        """The programme roles this user holds (group names), read once per request."""
        if not self.pk or not self.is_active:
            return frozenset()
        return frozenset(self.groups.filter(name__in=ROLES).values_list("name", flat=True))

    def has_role(self, role: str) -> bool:
        return role in self.role_names

    @property
    def is_programme_staff(self) -> bool:
        """Verifier, approver, finance or auditor: reads every company and application."""
        return bool(self.role_names & STAFF_ROLES)

    @property
    def needs_second_factor(self) -> bool:
        """Officers, admin users and superusers pass a second factor before anything works."""
        return self.is_active and (self.is_superuser or self.is_staff or self.is_programme_staff)


class ApiToken(models.Model):
    """An API token: only a hash of its secret is kept; the secret is shown once."""

    user = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    # The first characters of the token, so its owner can tell tokens apart in the list.
    prefix = models.CharField(_("prefix"), max_length=12)
    key_hash = models.CharField(_("SHA-256 of the token"), max_length=64, unique=True)
    created = models.DateTimeField(_("created"), default=timezone.now)
    expires = models.DateTimeField(_("expires"))
    last_used = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked = models.DateTimeField(_("revoked"), null=True, blank=True)
    # The browser session that made the token, if any: logging out of it revokes the token.
    session_key = models.CharField(_("session key"), max_length=40, blank=True, db_index=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user_id})"

    def is_live(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked is None and self.expires > now
