"""Cases for the officers' page tests: made through the services, or placed in a state."""

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from subsidy.demo.applicant import sample_jpeg, sample_pdf
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


def _readable_files(company, number: int) -> tuple:
    """An invoice PDF a browser renders and a photo worth looking at, unique to this case."""
    invoice = sample_pdf("Faktur", (company.name, f"Mesin {number}"))
    photo = sample_jpeg(f"{company.name} - mesin {number}")
    return (
        SimpleUploadedFile(f"faktur-mesin-{number}.pdf", invoice, content_type="application/pdf"),
        SimpleUploadedFile(f"foto-mesin-{number}.jpg", photo, content_type="image/jpeg"),
    )


def case_with_machines(
    programme, company, applicant, *, machines: int, readable: bool = False
) -> Application:
    """A draft with `machines` items, each with its invoice (PDF) and photo, then submitted.

    `readable`: real files (as the demo's) instead of the smallest ones the checks accept.
    """
    application = application_services.application_create(
        by=applicant, programme=programme, company=company
    )
    for number in range(1, machines + 1):
        item = MachineItemFactory(application=application)
        invoice, photo = _readable_files(company, number) if readable else (pdf_upload(), jpeg())
        document_services.document_upload(
            application=application, by=applicant, kind="invoice", file=invoice, item=item
        )
        document_services.document_upload(
            application=application,
            by=applicant,
            kind="installation_photo",
            file=photo,
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
