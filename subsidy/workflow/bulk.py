"""Bulk decisions: many cases, each decided on its own by the same service as one case.

No outer transaction: every case is its own application_approve (its own transaction and
its own programme lock), so a refused case changes nothing and an approved one stays approved
whatever happens to the next. The page and a future API read the same results.
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model

from config.errors import ServiceError
from subsidy.models import Application
from subsidy.workflow.actions import application_approve

User = get_user_model()


@dataclass(frozen=True)
class BulkResult:
    """One case's answer: approved with the amount reserved, or refused with the reason."""

    application: Application
    approved: bool
    code: str = "ok"
    message: str = ""
    amount: int | None = None


def applications_approve_many(*, applications: list[Application], by: User) -> list[BulkResult]:
    """Approve each case in id order (the order every lock is taken in); one result per case."""
    results = []
    for application in sorted(applications, key=lambda a: a.pk):
        try:
            approved = application_approve(application=application, by=by)
        except ServiceError as error:
            results.append(
                BulkResult(
                    application=application,
                    approved=False,
                    code=error.code,
                    message=str(error.detail),
                )
            )
        else:
            results.append(
                BulkResult(application=approved, approved=True, amount=approved.approved_amount)
            )
    return results
