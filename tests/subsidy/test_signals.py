"""Signals for officers: the same file or a lost claim elsewhere; no amount, block or staleness."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.roles import APPLICANT
from subsidy import signals as officer_signals
from subsidy.models import Application
from subsidy.services import applications as application_services
from subsidy.services import documents as document_services
from subsidy.workflow import actions as workflow
from tests.factories import CompanyFactory, ProgrammeFactory, UserFactory
from tests.utils import PDF_BYTES, client_for, complete_application, item_data

pytestmark = pytest.mark.django_db

S = Application.Status
SHARED = PDF_BYTES + b"% faktur bersama\n"


def pdf(content: bytes = SHARED, name: str = "faktur.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


@pytest.fixture
def run_jobs(django_capture_on_commit_callbacks):
    """Run the jobs queued inside the block (the computation) as a worker would after commit."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def fresh(application: Application) -> Application:
    application.refresh_from_db()
    return application


def new_case(user, programme, company=None) -> Application:
    return application_services.application_create(
        by=user, programme=programme, company=company or CompanyFactory(members=[user])
    )


def submitted(user, programme, *files: bytes) -> Application:
    """A complete case holding these files too, submitted: it has a reference."""
    application = new_case(user, programme)
    complete_application(application, user)
    for content in files:
        document_services.document_upload(
            application=application, by=user, kind="other", file=pdf(content)
        )
    return workflow.application_submit(application=application, by=user)


def test_a_shared_file_is_one_signal_per_file_naming_the_other_case(
    applicant, other_applicant, programme, run_jobs
):
    with run_jobs():
        theirs = submitted(other_applicant, programme, SHARED)
        mine = new_case(applicant, programme)
        complete_application(mine, applicant)
        # The same file twice in this case, and a third file nobody else holds.
        first = document_services.document_upload(
            application=mine, by=applicant, kind="invoice", file=pdf(name="a.pdf")
        )
        second = document_services.document_upload(
            application=mine, by=applicant, kind="other", file=pdf(name="b.pdf")
        )
        document_services.document_upload(
            application=mine, by=applicant, kind="other", file=pdf(PDF_BYTES + b"% sendiri\n")
        )

    signals = [s for s in officer_signals.signals_for(mine) if s["sha256"] == first.sha256]
    assert signals == [
        {
            "kind": "duplicate_document",
            "sha256": first.sha256,
            "documents": [first.pk, second.pk],
            "code": None,
            "item": None,
            "cases": [{"application": theirs.pk, "reference": theirs.reference}],
        }
    ]
    # A signal, not a finding: no amount changes.
    mine = fresh(mine)
    assert "duplicate_document" not in {f["code"] for f in mine.findings}
    assert mine.computed_discount == 40_000_000
    assert fresh(theirs).computed_discount == 40_000_000


def test_the_other_side_sees_the_signal_too(applicant, other_applicant, programme, run_jobs):
    with run_jobs():
        theirs = new_case(other_applicant, programme)
        document_services.document_upload(
            application=theirs, by=other_applicant, kind="other", file=pdf()
        )
        mine = submitted(applicant, programme, SHARED, SHARED)
        draft = new_case(applicant, ProgrammeFactory(), mine.company)
        document_services.document_upload(application=draft, by=applicant, kind="other", file=pdf())

    [signal] = officer_signals.signals_for(theirs)
    # Each other case holding the file is named once, a draft without a reference too.
    assert signal["cases"] == [
        {"application": mine.pk, "reference": mine.reference},
        {"application": draft.pk, "reference": None},
    ]


def test_the_same_company_reusing_a_file_is_no_signal(applicant, company, programme):
    first = new_case(applicant, programme, company)
    later = new_case(applicant, ProgrammeFactory(), company)
    for application in (first, first, later):
        document_services.document_upload(
            application=application, by=applicant, kind="nib", file=pdf()
        )

    assert officer_signals.signals_for(first) == []
    assert officer_signals.signals_for(later) == []


def test_deleting_the_shared_file_ends_the_signal(applicant, other_applicant, programme):
    theirs = new_case(other_applicant, programme)
    document = document_services.document_upload(
        application=theirs, by=other_applicant, kind="other", file=pdf()
    )
    mine = new_case(applicant, programme)
    document_services.document_upload(application=mine, by=applicant, kind="other", file=pdf())
    assert len(officer_signals.signals_for(mine)) == 1

    document_services.document_delete(document=document, by=other_applicant)

    assert officer_signals.signals_for(mine) == []
    assert officer_signals.signals_for(theirs) == []


def test_an_upload_leaves_another_company_case_fresh_and_approvable(
    applicant, other_applicant, verifier, approver, programme, run_jobs
):
    with run_jobs():
        theirs = submitted(other_applicant, programme)
        theirs = workflow.application_start_review(application=theirs, by=verifier)
        theirs = workflow.application_pass_review(application=theirs, by=verifier)
        theirs = workflow.application_recommend(
            application=theirs,
            by=verifier,
            checklist=dict.fromkeys(
                ("machines_present", "machines_new", "machines_installed", "not_transferred"),
                True,
            ),
        )
    before = fresh(theirs)
    assert before.computed_at is not None

    with run_jobs():
        # The same invoice PDF (tests.utils uploads one file for every case) and another one.
        mine = new_case(applicant, programme)
        complete_application(mine, applicant)
        document_services.document_upload(
            application=mine, by=applicant, kind="other", file=pdf(PDF_BYTES)
        )

    after = fresh(theirs)
    assert (after.computed_at, after.data_version) == (before.computed_at, before.data_version)
    assert officer_signals.signals_for(after)[0]["cases"][0]["application"] == mine.pk
    approved = workflow.application_approve(application=after, by=approver)
    assert approved.status == S.APPROVED
    assert approved.approved_amount == 40_000_000


def test_a_lost_claim_is_a_signal_naming_the_case_that_keeps_it(
    applicant, other_applicant, programme, run_jobs
):
    shared = {"invoice_number": "INV/2026/777", "serial_number": "XK-77"}
    with run_jobs():
        keeper = new_case(other_applicant, programme)
        complete_application(keeper, other_applicant, **shared)
        keeper = workflow.application_submit(application=keeper, by=other_applicant)
        loser = new_case(applicant, programme)
        complete_application(loser, applicant, **shared)
    item = loser.items.get()

    signals = [s for s in officer_signals.signals_for(loser) if s["kind"] == "lost_claim"]

    kept_by = [{"application": keeper.pk, "reference": keeper.reference}]
    assert signals == [
        {
            "kind": "lost_claim",
            "sha256": None,
            "documents": [],
            "code": code,
            "item": item.pk,
            "cases": kept_by,
        }
        for code in ("duplicate_invoice", "duplicate_serial")
    ]
    # The keeper lost nothing: its only signal is the shared test PDF.
    assert [s["kind"] for s in officer_signals.signals_for(keeper)] == ["duplicate_document"]


def test_the_signal_flag_agrees_with_the_signals(applicant, other_applicant, programme, run_jobs):
    with run_jobs():
        quiet = new_case(applicant, programme)
        document_services.document_upload(
            application=quiet, by=applicant, kind="other", file=pdf(PDF_BYTES + b"% 1\n")
        )
        sharing = new_case(other_applicant, programme)
        document_services.document_upload(
            application=sharing, by=other_applicant, kind="other", file=pdf()
        )
        holder = new_case(UserFactory(roles=[APPLICANT]), ProgrammeFactory())
        document_services.document_upload(
            application=holder, by=holder.created_by, kind="other", file=pdf()
        )
        keeper = new_case(holder.created_by, programme, holder.company)
        complete_application(keeper, holder.created_by, serial_number="SN-SAMA")
        keeper = workflow.application_submit(application=keeper, by=holder.created_by)
        loser = new_case(applicant, ProgrammeFactory())
        application_services.item_create(
            application=loser, by=applicant, **item_data(serial_number="SN-SAMA")
        )

    flagged = dict(
        officer_signals.with_signal_flag(Application.objects.all()).values_list("pk", "has_signals")
    )

    for application in Application.objects.all():
        assert flagged[application.pk] == bool(officer_signals.signals_for(application))
    assert not flagged[quiet.pk]
    assert flagged[sharing.pk]
    assert flagged[loser.pk]


# --- Through the API ---------------------------------------------------------------------


def test_staff_see_signals_on_the_detail_and_applicants_never(
    applicant, other_applicant, verifier, auditor, programme
):
    theirs = submitted(other_applicant, programme, SHARED)
    mine = new_case(applicant, programme)
    document_services.document_upload(application=mine, by=applicant, kind="other", file=pdf())
    url = f"/api/v1/applications/{mine.pk}/"

    for staff in (verifier, auditor):
        response = client_for(staff).get(url)
        assert response.status_code == 200
        [signal] = response.json()["signals"]
        assert signal["kind"] == "duplicate_document"
        assert signal["cases"] == [{"application": theirs.pk, "reference": theirs.reference}]

    response = client_for(applicant).get(url)
    assert response.status_code == 200
    assert response.json()["signals"] is None
    assert theirs.reference not in response.content.decode()
    # Lists do not read signals, for anyone.
    listed = client_for(verifier).get("/api/v1/applications/").json()["results"]
    assert {a["signals"] for a in listed} == {None}
