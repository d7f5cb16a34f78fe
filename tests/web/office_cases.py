"""Cases for the officers' page tests: made through the services, or placed in a state."""

import datetime as dt

from django.utils import timezone

from subsidy.models import Application
from subsidy.services import applications as application_services
from subsidy.services import documents as document_services
from subsidy.workflow import actions as workflow
from tests.factories import ApplicationFactory, CompanyFactory, MachineItemFactory
from tests.utils import complete_application, jpeg, pdf_upload

S = Application.Status
_numbers = iter(range(1, 10**6))


def placed_case(programme, *, status: str = S.SUBMITTED, days: int = 0, **company) -> Application:
    """A case put straight into a state, entered `days` ago (for lists: no computation)."""
    number = next(_numbers)
    changed = timezone.now() - dt.timedelta(days=days)
    return ApplicationFactory(
        programme=programme,
        company=CompanyFactory(**company),
        status=status,
        reference=f"RMP-{programme.year}-9{number:05d}",
        submitted_at=changed,
        status_changed_at=changed,
        company_snapshot=None,
    )


def case_with_machines(programme, company, applicant, *, machines: int) -> Application:
    """A draft with `machines` items, each with its invoice (PDF) and photo, then submitted."""
    application = application_services.application_create(
        by=applicant, programme=programme, company=company
    )
    for _ in range(machines):
        item = MachineItemFactory(application=application)
        document_services.document_upload(
            application=application, by=applicant, kind="invoice", file=pdf_upload(), item=item
        )
        document_services.document_upload(
            application=application,
            by=applicant,
            kind="installation_photo",
            file=jpeg(),
            item=item,
        )
    return workflow.application_submit(application=application, by=applicant)


def submitted_case(jobs, programme, company, applicant) -> Application:
    """A complete application submitted through the services, its refund computed."""
    with jobs():
        application = application_services.application_create(
            by=applicant, programme=programme, company=company
        )
        complete_application(application, applicant)
        workflow.application_submit(application=application, by=applicant)
    return Application.objects.get(pk=application.pk)
