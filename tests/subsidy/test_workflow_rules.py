"""The rules around the transitions: four eyes, rejections, approval refusals, freezing,
the budget, submission checks, the case officer and the service level."""

import datetime as dt

import pytest
from django.utils import timezone

from accounts.roles import APPLICANT, APPROVER, FINANCE, VERIFIER
from config.errors import ServiceError
from subsidy import selectors
from subsidy.models import (
    Application,
    AuditEntry,
    Document,
    MachineItem,
    ReferenceCounter,
)
from subsidy.services import applications as application_services
from subsidy.services import companies as company_services
from subsidy.services import documents as document_services
from subsidy.workflow import actions as workflow
from subsidy.workflow import transitions
from tests.factories import CompanyFactory, ProgrammeFactory, UserFactory
from tests.subsidy.test_workflow_matrix import AMOUNT, put_in_state
from tests.utils import client_for, complete_application, item_data, pdf_upload

S = Application.Status
CHECKLIST = dict.fromkeys(transitions.CHECKLIST_ITEMS, True)


def refused(call, **kwargs) -> ServiceError:
    with pytest.raises(ServiceError) as error:
        call(**kwargs)
    return error.value


@pytest.fixture
def application(applicant, company, programme):
    return application_services.application_create(
        by=applicant, programme=programme, company=company
    )


@pytest.fixture
def reviewer_and_approver(db):
    """A senior officer who holds both the verifier and the approver role."""
    return UserFactory(username="hana", roles=[VERIFIER, APPROVER])


def _review_to_recommended(application, *, passed_by, recommended_by, verifier):
    application = put_in_state(application, S.SUBMITTED)
    application = workflow.application_start_review(application=application, by=verifier)
    application = workflow.application_pass_review(application=application, by=passed_by)
    return workflow.application_recommend(
        application=application, by=recommended_by, checklist=CHECKLIST
    )


# --- Four eyes -----------------------------------------------------------------------------


@pytest.mark.parametrize("did", ["pass_review", "recommend"])
def test_four_eyes_refuses_approval_by_the_officer_who_reviewed_the_case(
    application, verifier, reviewer_and_approver, did
):
    application = _review_to_recommended(
        application,
        passed_by=reviewer_and_approver if did == "pass_review" else verifier,
        recommended_by=reviewer_and_approver if did == "recommend" else verifier,
        verifier=verifier,
    )
    error = refused(workflow.application_approve, application=application, by=reviewer_and_approver)
    assert (error.code, error.status) == ("four_eyes", 403)
    application.refresh_from_db()
    assert application.status == S.RECOMMENDED
    assert application.approved_amount is None


@pytest.mark.parametrize("did", ["pass_review", "recommend"])
def test_four_eyes_hides_approve_from_the_officer_who_reviewed_the_case(
    application, verifier, reviewer_and_approver, did
):
    application = _review_to_recommended(
        application,
        passed_by=reviewer_and_approver if did == "pass_review" else verifier,
        recommended_by=reviewer_and_approver if did == "recommend" else verifier,
        verifier=verifier,
    )
    offered = transitions.available_actions(application=application, user=reviewer_and_approver)
    assert [a["action"] for a in offered] == ["reject"]


def test_four_eyes_lets_another_approver_approve_the_case(
    application, reviewer_and_approver, approver
):
    application = _review_to_recommended(
        application,
        passed_by=reviewer_and_approver,
        recommended_by=reviewer_and_approver,
        verifier=reviewer_and_approver,
    )
    assert "approve" in [
        a["action"] for a in transitions.available_actions(application=application, user=approver)
    ]
    application = workflow.application_approve(application=application, by=approver)
    assert application.status == S.APPROVED
    assert application.approved_amount == AMOUNT


def test_four_eyes_lets_a_dual_role_officer_approve_a_case_they_did_not_review(
    application, verifier, reviewer_and_approver
):
    application = _review_to_recommended(
        application, passed_by=verifier, recommended_by=verifier, verifier=verifier
    )
    application = workflow.application_approve(application=application, by=reviewer_and_approver)
    assert application.status == S.APPROVED


# --- Conflict of interest ------------------------------------------------------------------


@pytest.fixture
def member_officer(company):
    """An applicant of the company who also holds every officer role."""
    user = UserFactory(username="irma", roles=[APPLICANT, VERIFIER, APPROVER, FINANCE])
    company.members.add(user)
    return user


OFFICER_STEPS = [
    ("start_review", S.SUBMITTED, {}),
    ("request_revision", S.UNDER_REVIEW, {"comment": "Lengkapi faktur."}),
    ("pass_review", S.UNDER_REVIEW, {}),
    ("reject", S.UNDER_REVIEW, {"comment": "Bukan IKM."}),
    ("recommend", S.FIELD_VERIFICATION, {"checklist": CHECKLIST}),
    ("reject", S.FIELD_VERIFICATION, {"comment": "Mesin tidak ada."}),
    ("approve", S.RECOMMENDED, {}),
    ("reject", S.RECOMMENDED, {"comment": "Anggaran lain."}),
    ("reject", S.APPROVED, {"comment": "Dokumen palsu."}),
    ("disburse", S.APPROVED, {"transfer_reference": "TRF-1", "transferred_on": "2026-01-02"}),
]


@pytest.mark.parametrize(
    ("action", "state", "payload"), OFFICER_STEPS, ids=[f"{a}-{s}" for a, s, _ in OFFICER_STEPS]
)
def test_a_member_of_the_company_takes_no_officer_action_on_its_case(
    application, member_officer, action, state, payload
):
    application = put_in_state(application, state)
    before = AuditEntry.objects.count()

    error = refused(
        getattr(workflow, f"application_{action}"),
        application=application,
        by=member_officer,
        **payload,
    )

    assert (error.code, error.status) == ("conflict_of_interest", 403)
    application.refresh_from_db()
    assert application.status == state
    assert AuditEntry.objects.count() == before


@pytest.mark.parametrize("state", [S.SUBMITTED, S.UNDER_REVIEW, S.RECOMMENDED, S.APPROVED])
def test_a_member_of_the_company_is_offered_only_applicant_actions(
    application, member_officer, state
):
    application = put_in_state(application, state)
    offered = transitions.available_actions(application=application, user=member_officer)
    expected = [] if state == S.APPROVED else ["withdraw"]
    assert [a["action"] for a in offered] == expected


def test_a_member_of_the_company_who_is_an_officer_still_submits_and_withdraws(
    application, member_officer
):
    complete_application(application, member_officer)
    application = workflow.application_submit(application=application, by=member_officer)
    assert application.status == S.SUBMITTED
    application = workflow.application_withdraw(application=application, by=member_officer)
    assert application.status == S.WITHDRAWN


def test_a_member_without_the_applicant_role_is_in_conflict_too(application, company, approver):
    company.members.add(approver)
    application = put_in_state(application, S.RECOMMENDED)
    error = refused(workflow.application_approve, application=application, by=approver)
    assert error.code == "conflict_of_interest"
    assert transitions.available_actions(application=application, user=approver) == []


def test_an_officer_of_another_company_is_not_in_conflict(application, other_company, approver):
    other_company.members.add(approver)
    application = put_in_state(application, S.RECOMMENDED)
    application = workflow.application_approve(application=application, by=approver)
    assert application.status == S.APPROVED


# --- Reject --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "who"),
    [
        (S.UNDER_REVIEW, "verifier"),
        (S.FIELD_VERIFICATION, "verifier"),
        (S.RECOMMENDED, "approver"),
        (S.APPROVED, "approver"),
    ],
)
def test_reject_moves_the_case_to_rejected_with_the_reason(application, request, state, who):
    user = request.getfixturevalue(who)
    application = put_in_state(application, state)
    application = workflow.application_reject(
        application=application, by=user, comment="Mesin tidak ditemukan di lokasi."
    )
    assert application.status == S.REJECTED
    entry = AuditEntry.objects.filter(application_id=application.pk).last()
    assert (entry.action, entry.from_status, entry.to_status, entry.comment) == (
        "reject",
        state,
        S.REJECTED,
        "Mesin tidak ditemukan di lokasi.",
    )


@pytest.mark.parametrize("comment", ["", "   ", None])
def test_reject_requires_a_reason(application, verifier, comment):
    application = put_in_state(application, S.UNDER_REVIEW)
    error = refused(
        workflow.application_reject, application=application, by=verifier, comment=comment
    )
    assert (error.code, error.status) == ("invalid", 400)
    assert "comment" in error.extra["errors"]
    application.refresh_from_db()
    assert application.status == S.UNDER_REVIEW


def test_rejecting_an_approved_case_releases_its_reservation(application, approver, programme):
    application = put_in_state(application, S.RECOMMENDED)
    application = workflow.application_approve(application=application, by=approver)
    assert selectors.programme_budget(programme) == {
        "budget": programme.budget,
        "committed": AMOUNT,
        "disbursed": 0,
        "available": programme.budget - AMOUNT,
    }
    application = workflow.application_reject(
        application=application, by=approver, comment="Temuan audit: faktur ganda."
    )
    assert application.approved_amount is None
    assert selectors.programme_budget(programme) == {
        "budget": programme.budget,
        "committed": 0,
        "disbursed": 0,
        "available": programme.budget,
    }
    entry = AuditEntry.objects.filter(application_id=application.pk).last()
    assert entry.changes == {"approved_amount": [AMOUNT, None]}


def _codes(application: Application) -> set[str]:
    application.refresh_from_db()
    return {f["code"] for f in application.findings}


@pytest.mark.parametrize("ending", ["reject", "withdraw"])
def test_ending_a_case_gives_its_claims_back_to_the_rival_that_lost_them(
    applicant,
    company,
    other_applicant,
    other_company,
    programme,
    verifier,
    ending,
    django_capture_on_commit_callbacks,
):
    shared = {"invoice_number": "INV/2026/777", "serial_number": "XK-77"}
    with django_capture_on_commit_callbacks(execute=True):
        first = application_services.application_create(
            by=applicant, programme=programme, company=company
        )
        complete_application(first, applicant, **shared)
        first = workflow.application_submit(application=first, by=applicant)
        rival = application_services.application_create(
            by=other_applicant, programme=programme, company=other_company
        )
        complete_application(rival, other_applicant, **shared)
        rival = workflow.application_submit(application=rival, by=other_applicant)
    assert _codes(rival) == {
        "duplicate_invoice",
        "duplicate_serial",
        "no_eligible_items",
        "below_minimum",
    }

    with django_capture_on_commit_callbacks(execute=True):
        if ending == "reject":
            first = workflow.application_start_review(application=first, by=verifier)
            workflow.application_reject(application=first, by=verifier, comment="Faktur palsu.")
        else:
            workflow.application_withdraw(application=first, by=applicant)

    # The same test PDF in both is a signal for officers, never a finding (test_signals.py).
    assert _codes(rival) == set()
    assert rival.computed_discount == 40_000_000
    assert rival.computed_at is not None


def test_a_disbursement_counts_against_the_company_in_later_programmes(
    applicant, company, finance, django_capture_on_commit_callbacks
):
    earlier = ProgrammeFactory()
    later = ProgrammeFactory(max_participations=1)
    assert later.year > earlier.year
    paid = application_services.application_create(by=applicant, programme=earlier, company=company)
    paid = put_in_state(paid, S.APPROVED, approved_amount=AMOUNT)
    with django_capture_on_commit_callbacks(execute=True):
        current = application_services.application_create(
            by=applicant, programme=later, company=company
        )
        complete_application(current, applicant)
    assert _codes(current) == set()

    with django_capture_on_commit_callbacks(execute=True):
        workflow.application_disburse(
            application=paid,
            by=finance,
            transfer_reference="TRF-1",
            transferred_on=timezone.localdate(),
        )

    assert _codes(current) == {"participation_limit_reached"}
    assert current.computed_at is not None


# --- Approve refuses -----------------------------------------------------------------------


def test_approve_refuses_a_stale_computation(application, approver):
    application = put_in_state(application, S.RECOMMENDED, computed_at=None)
    error = refused(workflow.application_approve, application=application, by=approver)
    assert (error.code, error.status) == ("stale_computation", 409)
    application.refresh_from_db()
    assert (application.status, application.approved_amount) == (S.RECOMMENDED, None)


@pytest.mark.parametrize(
    "code",
    [
        "below_minimum",
        "no_eligible_items",
        "company_not_ikm",
        "kbli_not_manufacturing",
        "participation_limit_reached",
    ],
)
def test_approve_refuses_a_blocking_finding(application, approver, code):
    application = put_in_state(
        application, S.RECOMMENDED, findings=[{"code": code, "item": None, "params": {}}]
    )
    error = refused(workflow.application_approve, application=application, by=approver)
    assert (error.code, error.status) == ("not_eligible", 409)
    assert error.extra["findings"] == [code]
    application.refresh_from_db()
    assert (application.status, application.approved_amount) == (S.RECOMMENDED, None)


def test_approve_accepts_a_non_blocking_finding(application, approver):
    application = put_in_state(
        application,
        S.RECOMMENDED,
        findings=[{"code": "duplicate_invoice", "item": 1, "params": {}}],
    )
    application = workflow.application_approve(application=application, by=approver)
    assert application.status == S.APPROVED


def _other_approved(programme, amount: int) -> Application:
    member = UserFactory()
    other = Application.objects.create(
        programme=programme, company=CompanyFactory(members=[member]), created_by=member
    )
    return put_in_state(other, S.APPROVED, computed_discount=amount, approved_amount=amount)


def test_approve_refuses_when_the_budget_left_is_too_small(application, approver, programme):
    programme.budget = 100_000_000
    programme.save(update_fields=["budget"])
    _other_approved(programme, 60_000_001)
    application = put_in_state(application, S.RECOMMENDED)
    error = refused(workflow.application_approve, application=application, by=approver)
    assert (error.code, error.status) == ("budget_exhausted", 409)
    assert error.extra["available"] == 100_000_000 - 60_000_001
    application.refresh_from_db()
    assert (application.status, application.approved_amount) == (S.RECOMMENDED, None)
    assert selectors.programme_budget(programme)["committed"] == 60_000_001


def test_approve_may_use_the_budget_to_the_last_rupiah(application, approver, programme):
    programme.budget = 100_000_000
    programme.save(update_fields=["budget"])
    _other_approved(programme, 100_000_000 - AMOUNT)
    application = put_in_state(application, S.RECOMMENDED)
    workflow.application_approve(application=application, by=approver)
    assert selectors.programme_budget(programme)["available"] == 0


# --- Freezing: only draft and revision_requested are editable ------------------------------


def _edit(operation: str, application: Application, by) -> None:
    item = application.items.first()
    document = application.documents.first()
    if operation == "item_create":
        application_services.item_create(application=application, by=by, **item_data())
    elif operation == "item_update":
        application_services.item_update(item=item, by=by, price=1)
    elif operation == "item_delete":
        application_services.item_delete(item=item, by=by)
    elif operation == "document_upload":
        document_services.document_upload(
            application=application, by=by, kind="other", file=pdf_upload()
        )
    elif operation == "document_delete":
        document_services.document_delete(document=document, by=by)


EDITS = ["item_create", "item_update", "item_delete", "document_upload", "document_delete"]
FROZEN = [s for s in S.values if s not in (S.DRAFT, S.REVISION_REQUESTED)]


@pytest.mark.parametrize("operation", EDITS)
@pytest.mark.parametrize("state", FROZEN)
def test_a_submitted_application_is_frozen(application, applicant, state, operation):
    complete_application(application, applicant)
    put_in_state(application, state)
    before = (
        list(MachineItem.objects.values_list("id", "price")),
        list(Document.objects.values_list("id", flat=True)),
        AuditEntry.objects.count(),
    )
    error = refused(_edit, operation=operation, application=application, by=applicant)
    assert (error.code, error.status) == ("invalid_transition", 409)
    assert before == (
        list(MachineItem.objects.values_list("id", "price")),
        list(Document.objects.values_list("id", flat=True)),
        AuditEntry.objects.count(),
    )


@pytest.mark.parametrize("operation", EDITS)
@pytest.mark.parametrize("state", [S.DRAFT, S.REVISION_REQUESTED])
def test_a_draft_or_returned_application_is_editable(application, applicant, state, operation):
    complete_application(application, applicant)
    put_in_state(application, state)
    entries = AuditEntry.objects.count()
    _edit(operation, application, applicant)
    assert AuditEntry.objects.count() == entries + 1


def test_company_changes_after_submission_leave_the_submitted_snapshot(
    application, applicant, company
):
    complete_application(application, applicant)
    application = workflow.application_submit(application=application, by=applicant)
    company_services.company_update(
        company=company, by=applicant, bank_account_number="999000111", workers=50
    )
    application.refresh_from_db()
    assert application.payout_account_number == company.bank_account_number
    assert application.company_snapshot["workers"] == 12
    assert application.company_snapshot["bank_account_number"] != "999000111"


# --- The budget selector -------------------------------------------------------------------


def test_programme_budget_counts_approved_as_committed_and_disbursed_apart(programme):
    def app(state: str, **fields) -> Application:
        member = UserFactory()
        made = Application.objects.create(
            programme=programme, company=CompanyFactory(members=[member]), created_by=member
        )
        return put_in_state(made, state, **fields)

    app(S.APPROVED, approved_amount=30_000_000)
    app(S.APPROVED, approved_amount=5_000_000)
    app(S.DISBURSED, approved_amount=20_000_000, disbursed_amount=20_000_000)
    app(S.RECOMMENDED)  # not reserved yet
    app(S.REJECTED, approved_amount=None)
    other_programme = ProgrammeFactory()
    made = Application.objects.create(
        programme=other_programme, company=CompanyFactory(), created_by=None
    )
    put_in_state(made, S.APPROVED, approved_amount=70_000_000)

    assert selectors.programme_budget(programme) == {
        "budget": programme.budget,
        "committed": 35_000_000,
        "disbursed": 20_000_000,
        "available": programme.budget - 55_000_000,
    }


def test_disbursement_moves_the_reservation_from_committed_to_disbursed(
    application, approver, finance, programme
):
    application = put_in_state(application, S.RECOMMENDED)
    workflow.application_approve(application=application, by=approver)
    application = workflow.application_disburse(
        application=application,
        by=finance,
        transfer_reference="TRF-9",
        transferred_on=timezone.localdate(),
    )
    assert application.disbursed_amount == AMOUNT
    assert selectors.programme_budget(programme) == {
        "budget": programme.budget,
        "committed": 0,
        "disbursed": AMOUNT,
        "available": programme.budget - AMOUNT,
    }


# --- Submission checks ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("opens", "closes"),
    [(-30, -1), (1, 30)],
    ids=["window_closed_yesterday", "window_opens_tomorrow"],
)
def test_first_submission_outside_the_window_is_refused(
    application, applicant, programme, opens, closes
):
    today = timezone.localdate()
    programme.application_opens = today + dt.timedelta(days=opens)
    programme.application_closes = today + dt.timedelta(days=closes)
    programme.save(update_fields=["application_opens", "application_closes"])
    complete_application(application, applicant)
    offered = transitions.available_actions(application=application, user=applicant)
    listed = client_for(applicant).get(f"/api/v1/applications/{application.pk}/transitions/")
    error = refused(workflow.application_submit, application=application, by=applicant)
    assert (error.code, error.status) == ("window_closed", 409)
    # What the window forbids is not offered: only withdrawing is left.
    assert [a["action"] for a in offered] == ["withdraw"]
    assert [a["action"] for a in listed.json()] == ["withdraw"]
    application.refresh_from_db()
    assert (application.status, application.reference, application.submitted_at) == (
        S.DRAFT,
        None,
        None,
    )
    assert not ReferenceCounter.objects.filter(programme=programme, last_number__gt=0).exists()


def test_resubmission_after_the_window_closed_is_accepted(
    application, applicant, verifier, programme
):
    complete_application(application, applicant)
    application = workflow.application_submit(application=application, by=applicant)
    application = workflow.application_start_review(application=application, by=verifier)
    application = workflow.application_request_revision(
        application=application, by=verifier, comment="Foto instalasi kurang jelas."
    )
    programme.application_closes = timezone.localdate() - dt.timedelta(days=1)
    programme.save(update_fields=["application_closes"])
    offered = transitions.available_actions(application=application, user=applicant)
    application = workflow.application_submit(application=application, by=applicant)
    assert application.status == S.SUBMITTED
    assert "submit" in [a["action"] for a in offered]


def test_submit_is_offered_on_the_days_the_window_opens_and_closes(
    application, applicant, programme
):
    complete_application(application, applicant)
    today = timezone.localdate()
    for opens, closes in [(today, today + dt.timedelta(days=5)), (today - dt.timedelta(5), today)]:
        programme.application_opens, programme.application_closes = opens, closes
        programme.save(update_fields=["application_opens", "application_closes"])
        offered = transitions.available_actions(application=application, user=applicant)
        assert [a["action"] for a in offered] == ["submit", "withdraw"]


@pytest.mark.parametrize(
    ("company_fields", "with_item", "uploaded", "missing"),
    [
        ({}, False, ["invoice", "npwp"], ["items"]),
        ({}, True, ["invoice"], ["documents.npwp"]),
        ({}, False, [], ["items", "documents.invoice", "documents.npwp"]),
        ({"npwp": ""}, True, ["invoice", "npwp"], ["company.npwp"]),
        ({"nib": None}, True, ["invoice", "npwp"], ["company.nib"]),
        (
            {"bank_name": "", "bank_account_number": "", "bank_account_name": ""},
            True,
            ["invoice", "npwp"],
            ["company.bank_name", "company.bank_account_number", "company.bank_account_name"],
        ),
    ],
    ids=["no_items", "a_document_missing", "nothing", "no_npwp", "no_nib", "no_bank_account"],
)
def test_incomplete_submission_is_refused_with_what_is_missing(
    applicant, programme, company_fields, with_item, uploaded, missing
):
    programme.required_documents = ["invoice", "npwp"]
    programme.save(update_fields=["required_documents"])
    company = CompanyFactory(members=[applicant], **company_fields)
    application = application_services.application_create(
        by=applicant, programme=programme, company=company
    )
    if with_item:
        application_services.item_create(application=application, by=applicant, **item_data())
    for kind in uploaded:
        document_services.document_upload(
            application=application, by=applicant, kind=kind, file=pdf_upload()
        )
    error = refused(workflow.application_submit, application=application, by=applicant)
    assert (error.code, error.status) == ("incomplete", 409)
    assert error.extra["missing"] == missing
    application.refresh_from_db()
    assert (application.status, application.reference) == (S.DRAFT, None)


def test_reference_is_allocated_once_and_submitted_at_survives_resubmission(
    application, applicant, verifier, programme
):
    assert application.reference is None
    complete_application(application, applicant)
    application = workflow.application_submit(application=application, by=applicant)
    reference, submitted_at = application.reference, application.submitted_at
    assert reference == f"RMP-{programme.year}-000001"
    application = workflow.application_start_review(application=application, by=verifier)
    application = workflow.application_request_revision(
        application=application, by=verifier, comment="Lengkapi faktur pajak."
    )
    application = workflow.application_submit(application=application, by=applicant)
    assert (application.reference, application.submitted_at) == (reference, submitted_at)
    assert ReferenceCounter.objects.get(programme=programme).last_number == 1


def test_references_count_up_per_programme(applicant, programme):
    references = []
    for _ in range(3):
        company = CompanyFactory(members=[applicant])
        made = application_services.application_create(
            by=applicant, programme=programme, company=company
        )
        complete_application(made, applicant)
        references.append(workflow.application_submit(application=made, by=applicant).reference)
    assert references == [f"RMP-{programme.year}-{n:06d}" for n in (1, 2, 3)]


def test_company_data_is_copied_onto_the_application_at_each_submission(
    application, applicant, company, verifier
):
    complete_application(application, applicant)
    application = workflow.application_submit(application=application, by=applicant)
    assert application.company_snapshot == company.snapshot()
    application = workflow.application_start_review(application=application, by=verifier)
    application = workflow.application_request_revision(
        application=application, by=verifier, comment="Rekening atas nama perusahaan."
    )
    first = application.company_snapshot
    company = company_services.company_update(
        company=company, by=applicant, bank_account_number="7777000111", workers=25
    )
    application = workflow.application_submit(application=application, by=applicant)
    assert application.company_snapshot == company.snapshot()
    assert application.payout_account_number == "7777000111"
    entry = AuditEntry.objects.filter(application_id=application.pk, action="submit").last()
    assert entry.changes == {"company_snapshot": [first, company.snapshot()]}


# --- Case officer and service level --------------------------------------------------------


def test_start_review_makes_the_verifier_the_case_officer(application, verifier, verifier2):
    application = put_in_state(application, S.SUBMITTED)
    assert list(selectors.queue_for(verifier2)) == [application]  # untaken: every verifier's
    application = workflow.application_start_review(application=application, by=verifier)
    assert application.case_officer == verifier
    assert list(selectors.queue_for(verifier)) == [application]
    assert list(selectors.queue_for(verifier2)) == []


def test_another_verifier_may_continue_the_case_and_the_case_officer_stays(
    application, verifier, verifier2
):
    application = put_in_state(application, S.SUBMITTED)
    application = workflow.application_start_review(application=application, by=verifier)
    application = workflow.application_pass_review(application=application, by=verifier2)
    assert application.status == S.FIELD_VERIFICATION
    assert application.case_officer == verifier
    assert list(selectors.queue_for(verifier)) == [application]
    assert list(selectors.queue_for(verifier2)) == []


def _waiting_case(applicant, programme, state: str, days: float, **fields: object) -> Application:
    company = CompanyFactory(members=[applicant])
    made = application_services.application_create(
        by=applicant, programme=programme, company=company
    )
    return put_in_state(
        made, state, status_changed_at=timezone.now() - dt.timedelta(days=days), **fields
    )


def test_queue_lists_the_oldest_waiting_case_first(applicant, programme, verifier):
    cases = [
        _waiting_case(applicant, programme, S.UNDER_REVIEW, days, case_officer=verifier)
        for days in (2, 9, 5)
    ]
    put_in_state(cases[0], S.RECOMMENDED, case_officer=verifier)  # no longer the verifier's
    assert list(selectors.queue_for(verifier)) == [cases[1], cases[2]]


def test_each_role_queue_holds_the_cases_waiting_on_it(
    applicant, programme, verifier, verifier2, approver, finance, auditor
):
    def case(state: str, officer=None) -> Application:
        return _waiting_case(applicant, programme, state, 1, case_officer=officer)

    untaken = case(S.SUBMITTED)
    resubmitted = case(S.SUBMITTED, verifier)  # back from revision: its officer's again
    reviewing = case(S.UNDER_REVIEW, verifier)
    visiting = case(S.FIELD_VERIFICATION, verifier)
    others = case(S.UNDER_REVIEW, verifier2)
    recommended = case(S.RECOMMENDED, verifier)
    approved = case(S.APPROVED, verifier)
    for state in (S.DRAFT, S.REVISION_REQUESTED, S.DISBURSED, S.REJECTED, S.WITHDRAWN):
        case(state, verifier)  # waiting on the applicant, or finished

    assert set(selectors.queue_for(verifier)) == {untaken, resubmitted, reviewing, visiting}
    assert set(selectors.queue_for(verifier2)) == {untaken, others}
    assert list(selectors.queue_for(approver)) == [recommended]
    assert list(selectors.queue_for(finance)) == [approved]
    assert list(selectors.queue_for(auditor)) == []
    assert list(selectors.queue_for(applicant)) == []


def test_a_user_with_two_roles_has_both_queues(applicant, programme, verifier):
    both = UserFactory(username="hana", roles=[VERIFIER, APPROVER])
    untaken = _waiting_case(applicant, programme, S.SUBMITTED, 3)
    recommended = _waiting_case(applicant, programme, S.RECOMMENDED, 2, case_officer=verifier)
    assert list(selectors.queue_for(both)) == [untaken, recommended]


def test_a_case_of_the_officers_own_company_is_not_in_their_queue(company, application):
    member_approver = UserFactory(username="hana", roles=[APPROVER])
    company.members.add(member_approver)
    put_in_state(application, S.RECOMMENDED)
    assert list(selectors.queue_for(member_approver)) == []
    assert list(selectors.queue_for(UserFactory(roles=[APPROVER]))) == [application]


def test_cases_past_service_level_are_those_waiting_in_the_queue_too_long(
    applicant, programme, verifier, approver, settings
):
    settings.CASE_SLA_DAYS = 14
    now = timezone.now()

    def case(state: str, days: float) -> Application:
        return _waiting_case(applicant, programme, state, days, case_officer=verifier)

    late = [case(S.UNDER_REVIEW, 20), case(S.FIELD_VERIFICATION, 14.01)]
    case(S.UNDER_REVIEW, 13.99)  # within the service level
    late_recommended = case(S.RECOMMENDED, 30)  # waits on an approver, not a verifier
    case(S.REVISION_REQUESTED, 30)  # waits on the applicant
    case(S.DRAFT, 30)
    assert list(selectors.cases_past_service_level(verifier, now)) == late
    assert list(selectors.cases_past_service_level(approver, now)) == [late_recommended]
