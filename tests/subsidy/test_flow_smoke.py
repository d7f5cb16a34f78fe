import pytest

from subsidy import audit
from subsidy.models import Application
from subsidy.services import applications as application_services
from subsidy.workflow import actions as workflow
from subsidy.workflow import transitions
from tests.utils import complete_application


@pytest.mark.django_db
def test_application_goes_from_draft_to_disbursed(
    applicant, company, programme, verifier, approver, finance, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        application = application_services.application_create(
            by=applicant, programme=programme, company=company
        )
        complete_application(application, applicant, items=2)
    application.refresh_from_db()
    assert application.computed_at is not None
    assert application.computed_discount == 80_000_000
    with django_capture_on_commit_callbacks(execute=True):
        application = workflow.application_submit(application=application, by=applicant)
    application.refresh_from_db()
    assert application.reference == f"RMP-{programme.year}-000001"
    application = workflow.application_start_review(application=application, by=verifier)
    application = workflow.application_pass_review(application=application, by=verifier)
    application = workflow.application_recommend(
        application=application,
        by=verifier,
        checklist=dict.fromkeys(transitions.CHECKLIST_ITEMS, True),
    )
    application = workflow.application_approve(application=application, by=approver)
    assert application.approved_amount == 80_000_000
    application = workflow.application_disburse(
        application=application,
        by=finance,
        transfer_reference="TRF-1",
        transferred_on="2026-11-01",
    )
    assert application.status == Application.Status.DISBURSED
    assert application.disbursed_amount == 80_000_000
    assert audit.verify().intact
