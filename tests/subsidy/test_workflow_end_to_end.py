"""Transitions through the services and the real computation, never a computed_* field written.

The workflow matrix moves applications straight into a state with made-up results; here every
amount comes from the engine (its jobs run eagerly when the transaction's on-commit callbacks
run), so staleness, competing claims, programme changes and the budget are what decide.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from config.errors import ServiceError
from subsidy import audit, selectors
from subsidy.engine import rules
from subsidy.models import Application, AuditEntry
from subsidy.services import applications as application_services
from subsidy.services import programmes as programme_services
from subsidy.workflow import actions as workflow
from subsidy.workflow import transitions
from tests.factories import ProgrammeFactory
from tests.utils import complete_application, item_data

S = Application.Status
CHECKLIST = dict.fromkeys(transitions.CHECKLIST_ITEMS, True)
DOMESTIC_RATE = Decimal("0.4000")  # ProgrammeFactory's kecil/domestic rate
IMPORTED_RATE = Decimal("0.2500")  # ProgrammeFactory's kecil/imported rate


@pytest.fixture
def jobs(django_capture_on_commit_callbacks):
    """Commit-time callbacks run on leaving the block: the eager computation jobs with them."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def refused(call, **kwargs) -> ServiceError:
    with pytest.raises(ServiceError) as error:
        call(**kwargs)
    return error.value


def fresh(application: Application) -> Application:
    return Application.objects.get(pk=application.pk)


def draft_with_items(jobs, *, by, programme, company, items: list[dict]) -> Application:
    with jobs():
        application = application_services.application_create(
            by=by, programme=programme, company=company
        )
        for overrides in items:
            application_services.item_create(
                application=application, by=by, **item_data(**overrides)
            )
        complete_application(application, by, items=0)
    return fresh(application)


def to_recommended(jobs, application: Application, *, applicant, verifier) -> Application:
    with jobs():
        application = workflow.application_submit(application=application, by=applicant)
        application = workflow.application_start_review(application=application, by=verifier)
        application = workflow.application_pass_review(application=application, by=verifier)
        workflow.application_recommend(application=application, by=verifier, checklist=CHECKLIST)
    application = fresh(application)
    assert application.status == S.RECOMMENDED
    assert application.computed_at is not None
    return application


def approve_entries(application: Application) -> int:
    return AuditEntry.objects.filter(application_id=application.pk, action="approve").count()


def rates_with(**changes: str) -> list[dict]:
    """The factory's four rates, with some replaced: key "kecil_domestic" -> "0.3500"."""
    rates = {
        ("kecil", "domestic"): "0.4000",
        ("kecil", "imported"): "0.2500",
        ("menengah", "domestic"): "0.4000",
        ("menengah", "imported"): "0.2500",
    }
    for key, rate in changes.items():
        rates[tuple(key.split("_"))] = rate
    return [{"scale": s, "origin": o, "rate": r} for (s, o), r in rates.items()]


# --- The whole life of a case --------------------------------------------------------------


@pytest.mark.django_db
def test_happy_path_from_draft_to_disbursed_amounts_come_from_the_engine(
    jobs, applicant, company, programme, verifier, approver, finance
):
    application = draft_with_items(
        jobs,
        by=applicant,
        programme=programme,
        company=company,
        items=[
            {"price": 100_000_000, "origin": "domestic"},
            {"price": 150_000_001, "origin": "imported"},
        ],
    )
    # kecil company (12 workers, 500 M investment): 40% of 100 M + floor(25% of 150 M + 1).
    assert rules.company_scale(company.workers, company.investment_value) == "kecil"
    first = rules.item_discount(100_000_000, DOMESTIC_RATE) + rules.item_discount(
        150_000_001, IMPORTED_RATE
    )
    assert first == 40_000_000 + 37_500_000
    assert application.status == S.DRAFT
    assert application.computed_at is not None
    assert (application.eligible_total, application.computed_discount) == (first, first)
    assert application.findings == []
    assert sorted(application.items.values_list("discount", flat=True)) == [
        37_500_000,
        40_000_000,
    ]

    with jobs():
        application = workflow.application_submit(application=application, by=applicant)
    assert fresh(application).status == S.SUBMITTED
    assert fresh(application).reference == f"RMP-{programme.year}-000001"
    assert fresh(application).computed_at is not None

    with jobs():
        workflow.application_start_review(application=application, by=verifier)
        workflow.application_request_revision(
            application=fresh(application), by=verifier, comment="Harga mesin impor keliru."
        )
    application = fresh(application)
    assert (application.status, application.case_officer) == (S.REVISION_REQUESTED, verifier)

    # The applicant corrects the imported machine's price; the job recomputes the refund.
    imported = application.items.get(origin="imported")
    with jobs():
        application_services.item_update(item=imported, by=applicant, price=120_000_000)
    application = fresh(application)
    second = 40_000_000 + rules.item_discount(120_000_000, IMPORTED_RATE)
    assert second == 70_000_000
    assert application.computed_at is not None
    assert application.computed_discount == second

    with jobs():
        workflow.application_submit(application=application, by=applicant)
        workflow.application_start_review(application=fresh(application), by=verifier)
        workflow.application_pass_review(application=fresh(application), by=verifier)
    assert fresh(application).status == S.FIELD_VERIFICATION
    # A second submission keeps the reference the first one gave.
    assert fresh(application).reference == f"RMP-{programme.year}-000001"
    with jobs():
        workflow.application_recommend(
            application=fresh(application), by=verifier, checklist=CHECKLIST
        )
    assert fresh(application).status == S.RECOMMENDED

    with jobs():
        workflow.application_approve(application=fresh(application), by=approver)
    application = fresh(application)
    assert (application.status, application.approved_amount) == (S.APPROVED, second)
    assert selectors.programme_budget(programme) == {
        "budget": programme.budget,
        "committed": second,
        "disbursed": 0,
        "available": programme.budget - second,
    }

    with jobs():
        workflow.application_disburse(
            application=application,
            by=finance,
            transfer_reference="TRF-2026-0001",
            transferred_on=timezone.localdate() - dt.timedelta(days=1),
        )
    application = fresh(application)
    assert (application.status, application.disbursed_amount) == (S.DISBURSED, second)
    assert selectors.programme_budget(programme)["disbursed"] == second
    assert selectors.programme_budget(programme)["committed"] == 0
    assert list(
        AuditEntry.objects.filter(application_id=application.pk, object_type="application")
        .order_by("seq")
        .values_list("action", flat=True)
    ) == [
        "create",
        "submit",
        "start_review",
        "request_revision",
        "submit",
        "start_review",
        "pass_review",
        "recommend",
        "approve",
        "disburse",
    ]
    assert audit.verify().intact


# --- Approve after a competing claim -------------------------------------------------------


def submitted_rival(jobs, *, by, company, programme) -> Application:
    """Another company's application, submitted before the one a test approves."""
    rival = draft_with_items(jobs, by=by, programme=programme, company=company, items=[{}])
    with jobs():
        workflow.application_submit(application=rival, by=by)
    return fresh(rival)


def claim_keys_of(item) -> dict:
    return {
        "supplier_npwp": item.supplier_npwp,
        "invoice_number": item.invoice_number,
        "serial_number": item.serial_number,
    }


@pytest.mark.django_db
def test_approve_after_losing_a_claim_reserves_the_recomputed_amount(
    jobs,
    applicant,
    company,
    other_applicant,
    other_company,
    programme,
    verifier,
    verifier2,
    approver,
):
    rival = submitted_rival(jobs, by=other_applicant, company=other_company, programme=programme)
    application = draft_with_items(
        jobs,
        by=applicant,
        programme=programme,
        company=company,
        items=[{"price": 100_000_000}, {"price": 50_000_000}],
    )
    application = to_recommended(jobs, application, applicant=applicant, verifier=verifier)
    assert application.computed_discount == 60_000_000
    assert fresh(rival).submitted_at < application.submitted_at

    # The rival, submitted earlier, is sent back and adds the same machine (invoice and serial).
    contested = application.items.get(price=100_000_000)
    with jobs():
        workflow.application_start_review(application=rival, by=verifier2)
        workflow.application_request_revision(
            application=fresh(rival), by=verifier2, comment="Lengkapi mesin kedua."
        )
        application_services.item_create(
            application=fresh(rival), by=other_applicant, **item_data(**claim_keys_of(contested))
        )

    application = fresh(application)
    assert application.computed_at is not None
    assert application.computed_discount == 20_000_000
    contested.refresh_from_db()
    assert contested.discount == 0
    assert {f["code"] for f in contested.findings} == {"duplicate_invoice", "duplicate_serial"}

    with jobs():
        workflow.application_approve(application=application, by=approver)
    application = fresh(application)
    assert (application.status, application.approved_amount) == (S.APPROVED, 20_000_000)
    assert selectors.programme_budget(programme)["committed"] == 20_000_000


@pytest.mark.django_db
def test_approve_after_losing_the_only_item_refuses_not_eligible(
    jobs,
    applicant,
    company,
    other_applicant,
    other_company,
    programme,
    verifier,
    verifier2,
    approver,
):
    rival = submitted_rival(jobs, by=other_applicant, company=other_company, programme=programme)
    application = draft_with_items(
        jobs, by=applicant, programme=programme, company=company, items=[{}]
    )
    application = to_recommended(jobs, application, applicant=applicant, verifier=verifier)
    assert application.computed_discount == 40_000_000
    with jobs():
        workflow.application_start_review(application=rival, by=verifier2)
        workflow.application_request_revision(
            application=fresh(rival), by=verifier2, comment="Lengkapi mesin kedua."
        )
        application_services.item_create(
            application=fresh(rival),
            by=other_applicant,
            **item_data(**claim_keys_of(application.items.get())),
        )
    application = fresh(application)
    assert application.computed_at is not None
    assert application.computed_discount == 0

    error = refused(workflow.application_approve, application=application, by=approver)
    assert (error.code, error.status) == ("not_eligible", 409)
    assert error.extra["findings"] == ["no_eligible_items", "below_minimum"]
    application = fresh(application)
    assert (application.status, application.approved_amount) == (S.RECOMMENDED, None)
    assert approve_entries(application) == 0
    assert selectors.programme_budget(programme)["committed"] == 0


# --- Approve after a programme change ------------------------------------------------------


@pytest.mark.django_db
def test_approve_after_a_rate_change_reserves_the_new_amount(
    jobs, applicant, company, programme, verifier, approver, superuser
):
    application = draft_with_items(
        jobs, by=applicant, programme=programme, company=company, items=[{"price": 100_000_000}]
    )
    application = to_recommended(jobs, application, applicant=applicant, verifier=verifier)
    assert application.computed_discount == 40_000_000

    with jobs():
        programme_services.programme_update(
            programme=programme, by=superuser, rates=rates_with(kecil_domestic="0.3500")
        )
    application = fresh(application)
    assert application.computed_at is not None
    assert application.computed_discount == rules.item_discount(100_000_000, Decimal("0.35"))
    assert application.computed_discount == 35_000_000

    with jobs():
        workflow.application_approve(application=application, by=approver)
    application = fresh(application)
    assert (application.status, application.approved_amount) == (S.APPROVED, 35_000_000)
    assert selectors.programme_budget(programme)["committed"] == 35_000_000


@pytest.mark.django_db
def test_approve_of_a_stale_case_is_refused_until_the_job_has_run(
    django_capture_on_commit_callbacks,
    jobs,
    applicant,
    company,
    programme,
    verifier,
    approver,
    superuser,
):
    application = draft_with_items(
        jobs, by=applicant, programme=programme, company=company, items=[{"price": 100_000_000}]
    )
    application = to_recommended(jobs, application, applicant=applicant, verifier=verifier)
    assert application.computed_discount == 40_000_000

    # The cap drops below the refund; the recomputation is queued but has not run yet.
    with django_capture_on_commit_callbacks(execute=False) as pending:
        programme_services.programme_update(
            programme=programme, by=superuser, max_refund_per_company=30_000_000
        )
    assert len(pending) == 1
    application = fresh(application)
    assert application.computed_at is None

    error = refused(workflow.application_approve, application=application, by=approver)
    assert (error.code, error.status) == ("stale_computation", 409)
    application = fresh(application)
    assert (application.status, application.approved_amount) == (S.RECOMMENDED, None)
    assert approve_entries(application) == 0

    with jobs():
        pending[0]()
    application = fresh(application)
    assert application.computed_at is not None
    assert (application.eligible_total, application.computed_discount) == (
        40_000_000,
        30_000_000,
    )
    with jobs():
        workflow.application_approve(application=application, by=approver)
    application = fresh(application)
    assert (application.status, application.approved_amount) == (S.APPROVED, 30_000_000)


# --- Approve at the budget's edge ----------------------------------------------------------


@pytest.fixture
def edge_cases(jobs, applicant, company, other_applicant, other_company, verifier):
    """A programme whose budget is decided by the test, and two recommended cases in it."""

    def build(budget: int) -> tuple[Application, Application]:
        programme = ProgrammeFactory(budget=budget)
        first = draft_with_items(
            jobs, by=applicant, programme=programme, company=company, items=[{"price": 100_000_000}]
        )
        second = draft_with_items(
            jobs,
            by=other_applicant,
            programme=programme,
            company=other_company,
            items=[{"price": 150_000_000}],
        )
        first = to_recommended(jobs, first, applicant=applicant, verifier=verifier)
        second = to_recommended(jobs, second, applicant=other_applicant, verifier=verifier)
        return first, second

    return build


@pytest.mark.django_db
def test_approve_at_the_budgets_edge_fits_exactly(edge_cases, jobs, approver):
    first, second = edge_cases(budget=100_000_000)
    assert (first.computed_discount, second.computed_discount) == (40_000_000, 60_000_000)
    with jobs():
        workflow.application_approve(application=first, by=approver)
        workflow.application_approve(application=second, by=approver)
    assert fresh(second).status == S.APPROVED
    assert fresh(second).approved_amount == 60_000_000
    assert selectors.programme_budget(first.programme) == {
        "budget": 100_000_000,
        "committed": 100_000_000,
        "disbursed": 0,
        "available": 0,
    }


@pytest.mark.django_db
def test_approve_one_rupiah_over_the_budget_refuses_and_changes_nothing(edge_cases, jobs, approver):
    first, second = edge_cases(budget=100_000_000 - 1)
    with jobs():
        workflow.application_approve(application=first, by=approver)
    before = selectors.programme_budget(first.programme)
    assert before["available"] == 60_000_000 - 1

    error = refused(workflow.application_approve, application=second, by=approver)
    assert (error.code, error.status) == ("budget_exhausted", 409)
    assert error.extra["available"] == 60_000_000 - 1
    second = fresh(second)
    assert (second.status, second.approved_amount) == (S.RECOMMENDED, None)
    assert approve_entries(second) == 0
    assert selectors.programme_budget(first.programme) == before
