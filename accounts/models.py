from functools import cached_property

from django.contrib.auth.models import AbstractUser
from django.db import models
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
