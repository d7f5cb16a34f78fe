"""Roles are membership of a Django group of that exact name (DOMAIN.md "Roles")."""

from django.contrib.auth.models import Group

APPLICANT = "applicant"
VERIFIER = "verifier"
APPROVER = "approver"
FINANCE = "finance"
AUDITOR = "auditor"
ROLES = (APPLICANT, VERIFIER, APPROVER, FINANCE, AUDITOR)
STAFF_ROLES = frozenset({VERIFIER, APPROVER, FINANCE, AUDITOR})


def role_group(role: str) -> Group:
    """The group for ``role``, created when missing."""
    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}; roles are {', '.join(ROLES)}.")
    group, _ = Group.objects.get_or_create(name=role)
    return group


def grant_role(user, role: str) -> None:
    user.groups.add(role_group(role))
    user.__dict__.pop("role_names", None)
